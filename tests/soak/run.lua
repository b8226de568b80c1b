-- `make soak`: luajit tests/soak/run.lua [PREFIX]
-- SOAK=short|long (default long), SOAK_HOST=kong-3.x|kong-2.8|nginx (default
-- kong-3.x). Writes PREFIX.json and PREFIX.txt (default
-- tests/soak/results/<mode>-<UTC date>), prints the table and the paths,
-- exits 1 when an assertion does not hold.
local driver = require "tests.soak.driver"
local report = require "tests.soak.report"

local mode = os.getenv("SOAK") or "long"
local host = os.getenv("SOAK_HOST") or "kong-3.x"
local root = os.getenv("CERTSYNC_ROOT") or "."
local prefix = arg[1] or string.format("%s/tests/soak/results/%s-%s", root, mode, os.date("!%Y-%m-%d"))

local result = driver.run({ mode = mode, host = host, verbose = os.getenv("SOAK_VERBOSE") == "1" })
local summary, json_path, txt_path = report.write(result, prefix)
io.write(report.table(summary))
io.write("report: ", json_path, "\n        ", txt_path, "\n")
os.exit(#report.failures(summary) == 0 and 0 or 1)
