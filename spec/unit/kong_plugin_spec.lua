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

  it("describes every configuration field and defaults the optional choices", function()
    local config
    for _, f in ipairs(schema.fields) do if f.config then config = f.config end end
    for _, f in ipairs(config.fields) do
      local name, def = next(f)
      assert.is_string(def.description, name)
      if def.one_of then assert.is_not_nil(def.default, name) end
    end
  end)
end)
