-- wrk script for S1: POST /api/v1/orders/ with 1 to 3 lines and a fresh Idempotency-Key each.
-- Env: BENCH_TOKEN (customer API token), BENCH_SKUS (comma separated), BENCH_RUN (unique run id).
local counter = 0
local threads_started = 0
-- `thread_id` is a global: setup() (run in the main Lua state) sets it in each thread's own
-- state, so every thread's keys differ. (A `local thread_id` would stay 0 in every thread and
-- the threads would send each other's keys: 409s and replays instead of new orders.)
thread_id = 0
local skus = {}
for sku in string.gmatch(os.getenv("BENCH_SKUS") or "", "[^,]+") do skus[#skus + 1] = sku end
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local path = os.getenv("BENCH_PATH") or "/api/v1/orders/"

function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_id", threads_started)
end

function request()
  counter = counter + 1
  local n = (counter % 3) + 1
  local lines = {}
  for i = 1, n do
    local sku = skus[((counter * 7 + i * 13 + thread_id) % #skus) + 1]
    lines[#lines + 1] = string.format('{"sku":"%s","quantity":1}', sku)
  end
  local body = string.format('{"lines":[%s],"payment_token":"tok_approved"}', table.concat(lines, ","))
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. (os.getenv("BENCH_TOKEN") or ""),
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, thread_id, counter),
  }
  return wrk.format("POST", path, headers, body)
end
