-- tests.soak.log_sweep: spec.support.secrets_sweep over every log of a soak.
-- A long soak writes megabytes of logs and makes a thousand keys; the sweep
-- compares every stretch of every key with every text, so the texts are first
-- cut down to what could hold a stretch: the runs of base64 characters
-- (A-Z a-z 0-9 + / =) of at least 16 characters, the shortest needle (a token's), each
-- kept once. A key's or a token's stretch is made of such characters only,
-- so it lies inside one run: nothing the sweep could find is dropped. The PEM
-- armour is looked for in the whole texts.
local proc = require "spec.support.proc"
local sweep = require "spec.support.secrets_sweep"

local _M = {}

local MIN_RUN = 16

local function runs(text)
  local seen, out = {}, {}
  for run in text:gmatch("[A-Za-z0-9+/=]+") do
    if #run >= MIN_RUN and not seen[run] then
      seen[run] = true
      out[#out + 1] = run
    end
  end
  return table.concat(out, "\n")
end

-- files: { label = path }; keys: PEM strings; tokens: strings.
-- Returns the leaks (empty when none) and the bytes swept.
function _M.sweep(files, keys, tokens)
  local texts, bytes, leaks = {}, 0, {}
  for label, path in pairs(files) do
    local text = proc.read_file(path) or ""
    bytes = bytes + #text
    if text:find("PRIVATE KEY-----", 1, true) then leaks[#leaks + 1] = label .. ": a PEM private key" end
    texts[#texts + 1] = { label = label, text = runs(text) }
  end
  for _, leak in ipairs(sweep.find(texts, keys, tokens)) do leaks[#leaks + 1] = leak end
  return leaks, bytes
end

return _M
