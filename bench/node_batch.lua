-- wrk script: POST /v1/payments with an array of COR_BATCH payments (default 8,189) per
-- request, each with a fresh payment id. Environment: COR_KEY, COR_CREDITOR, COR_BATCH, COR_RUN.
local counter = 0
local thread_count = 0

function setup(thread)
    thread:set("thread_index", thread_count)
    thread_count = thread_count + 1
end

function init(args)
    key = os.getenv("COR_KEY")
    creditor = os.getenv("COR_CREDITOR") or "2"
    batch = tonumber(os.getenv("COR_BATCH") or "8189")
    base = (thread_index + 1) * 1000000000000 + (tonumber(os.getenv("COR_RUN") or "0")) * 10000000000000
    headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
end

function request()
    local items = {}
    for i = 1, batch do
        counter = counter + 1
        items[i] = string.format('{"payment_id":"%d","creditor":"%s","amount":"1","currency":"RUB"}',
            base + counter, creditor)
    end
    return wrk.format("POST", "/v1/payments", headers, "[" .. table.concat(items, ",") .. "]")
end

local failures = 0
function response(status, headers, body)
    if status ~= 200 then failures = failures + 1 end
end

function done(summary, latency, requests)
    local size = tonumber(os.getenv("COR_BATCH") or "8189")
    io.write(string.format("batch=%d requests=%d payments_per_s=%.0f p50_us=%d p99_us=%d non_200=%d\n",
        size, summary.requests, summary.requests * size / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), summary.errors.status))
end
