/* two-lua-vms: two independent LuaJIT VMs in one process, as a Kong worker
 * has one for http and one for stream, both loading the same libcertsync.so
 * through the FFI. Each VM loads the Lua file given as argv[1], which defines
 * global functions; commands on stdin, one a line, "<vm> <function>" (vm is 1
 * or 2), call that function in that VM and answer "ok" or "error <message>"
 * on stdout. "quit" ends the program. The busted spec that drives it reads
 * the API test server's counters between commands.
 */
#include <cstdio>
#include <cstring>
#include <lua.hpp>

static lua_State* new_vm(const char* script) {
  lua_State* L = luaL_newstate();
  if (!L) return nullptr;
  luaL_openlibs(L);
  if (luaL_dofile(L, script) != 0) {
    fprintf(stdout, "error loading %s: %s\n", script, lua_tostring(L, -1));
    fflush(stdout);
    lua_close(L);
    return nullptr;
  }
  return L;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s VM_SCRIPT.lua < commands\n", argv[0]);
    return 2;
  }
  lua_State* vms[2] = {new_vm(argv[1]), new_vm(argv[1])};
  if (!vms[0] || !vms[1]) return 1;
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "quit") == 0) break;
    int vm = 0;
    char function[200];
    if (sscanf(line, "%d %199s", &vm, function) != 2 || vm < 1 || vm > 2) {
      printf("error malformed command: %s\n", line);
    } else {
      lua_State* L = vms[vm - 1];
      lua_getglobal(L, function);
      if (lua_pcall(L, 0, 0, 0) != 0) {
        printf("error %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
      } else {
        printf("ok\n");
      }
    }
    fflush(stdout);
  }
  // Closing a VM collects its handles (ffi.gc), as a worker's exit would.
  lua_close(vms[0]);
  lua_close(vms[1]);
  return 0;
}
