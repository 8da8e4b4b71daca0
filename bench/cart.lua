-- wrk script for S6: POST /api/v1/carts/{id}/complete/, each request completing another ready cart.
-- Env: BENCH_CARTS (file of "id token" lines), BENCH_CART_OFFSET (the first line this run may use),
-- BENCH_THREADS (wrk's -t), BENCH_RUN (unique run id for the Idempotency-Keys).
-- Thread t takes lines offset + t - 1, then every BENCH_THREADS-th; done() prints how far the
-- threads got, so that the next run starts after them (a cart completes once).
local threads = {}
thread_id = 0  -- a global: setup() sets it in each thread's own state (see order.lua)
counter = 0  -- a global too: done() reads it from each thread
local carts = {}
for line in io.lines(os.getenv("BENCH_CARTS")) do carts[#carts + 1] = line end
local offset = tonumber(os.getenv("BENCH_CART_OFFSET") or "0")
local stride = tonumber(os.getenv("BENCH_THREADS") or "1")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local body = '{"payment_token":"tok_approved","email":"bench-guest@example.com"}'

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

function request()
  local index = offset + (thread_id - 1) + stride * counter
  counter = counter + 1
  local id, token = string.match(carts[(index % #carts) + 1], "(%S+) (%S+)")
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Cart-Token"] = token,
    ["Idempotency-Key"] = string.format("%s-%d", run, index),
  }
  return wrk.format("POST", "/api/v1/carts/" .. id .. "/complete/", headers, body)
end

function done(summary, latency, requests)
  local most = 0
  for _, thread in ipairs(threads) do
    most = math.max(most, thread:get("counter") or 0)
  end
  io.write(string.format("carts used until %d of %d\n", offset + stride * most, #carts))
end
