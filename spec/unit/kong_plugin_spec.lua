-- The Kong plugin's handler and schema meet the rules Kong checks when it loads a plugin
-- (kong/db/dao/plugins.lua: integer PRIORITY, VERSION "x.y.z"; global-only schema).
-- Kong itself is not installed here, so its modules are provided as plain tables.
describe("the Kong plugin", function()
  local handler, schema

  setup(function()
    package.loaded["certsync.core"] = { init_worker = function() end, configure = function() end,
                                        certificate = function() end }
    package.loaded["kong.db.schema.typedefs"] = { no_consumer = { marker = "no_consumer" },
      no_route = { marker = "no_route" }, no_service = { marker = "no_service" },
      protocols_http = { marker = "protocols_http" } }
    handler = require "kong.plugins.certsync.handler"
    schema = require "kong.plugins.certsync.schema"
  end)

  teardown(function()
    package.loaded["certsync.core"] = nil
    package.loaded["kong.db.schema.typedefs"] = nil
  end)

  it("has an integer PRIORITY and a x.y.z VERSION", function()
    assert.equal("number", type(handler.PRIORITY))
    assert.equal(math.floor(handler.PRIORITY), handler.PRIORITY)
    assert.matches("^%d+%.%d+%.%d+$", handler.VERSION)
  end)

  it("implements the phases it needs", function()
    for _, phase in ipairs({ "init_worker", "configure", "certificate" }) do
      assert.equal("function", type(handler[phase]), phase)
    end
  end)

  it("is global only", function()
    local fields = {}
    for _, f in ipairs(schema.fields) do
      local name, def = next(f)
      fields[name] = def
    end
    assert.equal("no_consumer", fields.consumer.marker)
    assert.equal("no_route", fields.route.marker)
    assert.equal("no_service", fields.service.marker)
  end)

  it("describes every configuration field in one line", function()
    for _, entry in ipairs(require("certsync.config_fields").fields) do
      local name, description = entry[1], entry[3]
      assert.is_string(description, name)
      assert.is_nil(description:find("\n"), name)
    end
  end)

  it("is installed whole by the rockspec: every Lua module of kong-plugin/", function()
    local rockspec = assert(io.open("kong-plugin-certsync-0.1.0-1.rockspec")):read("*a")
    local listing = assert(io.popen("cd kong-plugin && find . -name '*.lua' | sort"))
    for path in listing:lines() do
      local module = path:gsub("^%./", ""):gsub("%.lua$", ""):gsub("/", ".")
      assert.truthy(rockspec:find('["' .. module .. '"] = "kong-plugin/' .. path:gsub("^%./", "") .. '"', 1, true),
        module .. " is missing from the rockspec")
    end
    listing:close()
  end)
end)
