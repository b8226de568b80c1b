-- Merges the headline figures of every bench/results/NAME.json into
-- bench/results/latest.json, with the machine and the date of each run
-- (variants such as api_cost_no_bookmarks.json stay out: their figures
-- would overwrite the main run's).
package.path = (os.getenv("CERTSYNC_ROOT") or ".") .. "/?.lua;" .. package.path
local json = require "dkjson"
local proc = require "spec.support.proc"
local bench = require "bench.support.common"

local dir = bench.root .. "/bench/results"
local latest = { machine = bench.machine(), runs = {} }
for name in proc.run("ls " .. proc.shell_quote(dir) .. " 2>/dev/null"):gmatch("([%w_]+)%.json") do
  if name ~= "latest" then
    local doc = json.decode(proc.read_file(dir .. "/" .. name .. ".json") or "")
    -- A result's headline figures: its `summary`, or else its top-level
    -- numbers (the renewal and API cost benchmarks write them flat).
    local figures = type(doc) == "table" and (type(doc.summary) == "table" and doc.summary or doc) or {}
    if type(doc) == "table" and not name:find("_no_") then
      for key, value in pairs(figures) do
        if type(value) == "number" and key ~= "quick" then latest[key] = value end
      end
      -- The machine of each run where it says (runs of one `make bench` share one; a
      -- benchmark rerun on its own may have run on another).
      latest.runs[name] = { date = doc.date or (doc.machine and doc.machine.date), quick = doc.quick or false,
                            model = doc.machine and doc.machine.model }
    end
  end
end
latest.date = latest.machine.date
proc.write_file(dir .. "/latest.json", json.encode(latest, { indent = true, keyorder = {} }) .. "\n")
print(json.encode(latest, { indent = true }))
