-- wrk script for bench/http_bench.sh: keep-alive GETs as one staff member, for a purpose,
-- with ids (BENCH_MODE=get) or phone numbers (BENCH_MODE=search) drawn from BENCH_FILE.
-- BENCH_TOKEN may hold several tokens separated by commas (several staff members): requests
-- take them in turn, so a long search run stays under each one's hourly search limit.
-- Writes requests/s, p50/p99 and the 2xx count to BENCH_REPORT as JSON.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKEN"), "[^,]+") do tokens[#tokens + 1] = t end
local mode = os.getenv("BENCH_MODE") or "get"
local file = os.getenv("BENCH_FILE")
local report = os.getenv("BENCH_REPORT")
local values = {}
for line in io.lines(file) do
  if #line > 0 then values[#values + 1] = line end
end
local headers = {}
for i, t in ipairs(tokens) do
  headers[i] = {["Authorization"] = "Bearer " .. t, ["X-Custos-Purpose"] = "customer_service"}
end
local turn = 0
twoxx = 0  -- globals: done() reads them from each thread
non2xx = 0

function init(args)
  math.randomseed(seed or os.time())
end

request = function()
  local v = values[math.random(1, #values)]
  local path
  if mode == "search" then
    path = "/v1/customers/search?field=phone&value=" .. v
  else
    path = "/v1/customers/" .. v .. "?fields=name,phone,id_number"
  end
  turn = turn % #headers + 1
  return wrk.format("GET", path, headers[turn])
end

response = function(status, headers, body)
  if status >= 200 and status < 300 then twoxx = twoxx + 1 else non2xx = non2xx + 1 end
end

local threads = {}
function setup(thread)
  thread:set("seed", math.random(1, 1000000))
  table.insert(threads, thread)
end

done = function(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("twoxx")
    bad = bad + t:get("non2xx")
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
                 summary.errors.timeout
  local f = io.open(report, "w")
  f:write(string.format(
    '{"rps": %f, "p50_ms": %f, "p99_ms": %f, "twoxx": %d, "non2xx": %d, "errors": %d}\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, ok, bad, errors))
  f:close()
end
