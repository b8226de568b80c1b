-- Nearest-rank percentiles of a list of numbers, for the benchmarks' tables.
local _M = {}

-- { n, p50, p90, p99, max } of `samples` (not modified); nil when empty.
function _M.summary(samples)
  if #samples == 0 then return nil end
  local sorted = {}
  for i, v in ipairs(samples) do sorted[i] = v end
  table.sort(sorted)
  local function at(p) return sorted[math.max(1, math.ceil(#sorted * p))] end
  return { n = #sorted, p50 = at(0.5), p90 = at(0.9), p99 = at(0.99), max = sorted[#sorted] }
end

return _M
