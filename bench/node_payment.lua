-- wrk script: single-payment POST /v1/payments requests, each with a fresh payment id.
-- Environment: COR_KEY (the debtor participant's API key), COR_CREDITOR (participant id).
local counter = 0
local thread_count = 0

function setup(thread)
    thread:set("thread_index", thread_count)
    thread_count = thread_count + 1
end

function init(args)
    key = os.getenv("COR_KEY")
    creditor = os.getenv("COR_CREDITOR") or "2"
    base = (thread_index + 1) * 1000000000000 + (tonumber(os.getenv("COR_RUN") or "0")) * 10000000000000
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"payment_id":"%d","creditor":"%s","amount":"1","currency":"RUB"}',
        base + counter, creditor)
    return wrk.format("POST", "/v1/payments",
        {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end

local status_other = 0
function response(status, headers, body)
    if status ~= 201 then status_other = status_other + 1 end
end

function done(summary, latency, requests)
    io.write(string.format("p50_us=%d p99_us=%d p999_us=%d requests=%d\n",
        latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
        summary.requests))
end
