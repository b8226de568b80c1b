-- A free TCP port on 127.0.0.1, asked of the kernel (bind to port 0).
local ffi = require "ffi"

ffi.cdef [[
  struct certsync_spec_sockaddr_in { uint16_t sin_family; uint16_t sin_port; uint32_t sin_addr; uint8_t zero[8]; };
  int socket(int domain, int type, int protocol);
  int bind(int fd, const void *addr, uint32_t len);
  int getsockname(int fd, void *addr, uint32_t *len);
  int close(int fd);
  uint16_t htons(uint16_t v);
  uint16_t ntohs(uint16_t v);
  uint32_t htonl(uint32_t v);
]]

local AF_INET, SOCK_STREAM, LOOPBACK = 2, 1, 0x7f000001

return function()
  local fd = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  assert(fd >= 0, "socket() failed")
  local addr = ffi.new("struct certsync_spec_sockaddr_in")
  addr.sin_family = AF_INET
  addr.sin_addr = ffi.C.htonl(LOOPBACK)
  local len = ffi.new("uint32_t[1]", ffi.sizeof(addr))
  local ok = ffi.C.bind(fd, addr, ffi.sizeof(addr)) == 0 and ffi.C.getsockname(fd, addr, len) == 0
  ffi.C.close(fd)
  assert(ok, "bind() to 127.0.0.1:0 failed")
  return ffi.C.ntohs(addr.sin_port)
end
