-- spec.support.secrets_sweep: finds private keys and tokens in text an
-- operator could see (logs, status, metrics, CLI output). A key counts as
-- found when its PEM armour appears, or any 24-character stretch of its
-- base64 body, or of the base64 of its whole PEM (the form a Secret's data
-- holds); a token when it appears whole or any 16-character stretch of it.
local _M = {}

local WINDOW = 24
local TOKEN_WINDOW = 16

local function base64(text)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(text)
  f:close()
  local p = io.popen("base64 -w0 < '" .. tmp .. "'")
  local out = p:read("*a")
  p:close()
  os.remove(tmp)
  return out
end

-- Stretches of `s` of length `n`, every `step` characters (and the last one).
local function stretches(s, n, step)
  local out = {}
  if #s < n then
    if #s > 0 then out[1] = s end
    return out
  end
  for i = 1, #s - n + 1, step do out[#out + 1] = s:sub(i, i + n - 1) end
  out[#out + 1] = s:sub(-n)
  return out
end

-- texts: { { label, text } }; keys: PEM strings; tokens: strings.
-- Returns { "label: what was found" }.
function _M.find(texts, keys, tokens)
  local needles = {}
  for k, pem in ipairs(keys) do
    local body = pem:gsub("%-%-%-%-%-[^\n]*%-%-%-%-%-", ""):gsub("%s", "")
    for _, s in ipairs(stretches(body, WINDOW, 4)) do needles[#needles + 1] = { s, "part of key " .. k } end
    for _, s in ipairs(stretches(base64(pem), WINDOW, 4)) do
      needles[#needles + 1] = { s, "part of key " .. k .. " as Secret data" }
    end
  end
  for t, token in ipairs(tokens) do
    for _, s in ipairs(stretches(token, TOKEN_WINDOW, 1)) do needles[#needles + 1] = { s, "part of token " .. t } end
  end
  local leaks = {}
  for _, item in ipairs(texts) do
    if item.text:find("PRIVATE KEY-----", 1, true) then leaks[#leaks + 1] = item.label .. ": a PEM private key" end
    for _, needle in ipairs(needles) do
      if item.text:find(needle[1], 1, true) then
        leaks[#leaks + 1] = item.label .. ": " .. needle[2]
        break
      end
    end
  end
  return leaks
end

return _M
