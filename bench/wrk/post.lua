-- POSTs the JSON body in $WRK_BODY to the URL wrk was given, and at the end prints one machine-readable
-- line `BENCH_JSON {...}` (latencies in microseconds) that bench/lib/wrk.mjs parses.
-- With $WRK_REQUESTS (a file of `path<TAB>body` lines) each request is the next line's instead, each thread starting
-- at its own place: many sessions refreshed in turn, so overlapping requests seldom share a session.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"

local many = os.getenv("WRK_REQUESTS")
if many then
  local requests, at, threads = {}, 0, 0
  function setup(thread)
    threads = threads + 1
    thread:set("start", threads * 7919) -- a prime stride: each thread starts at its own place
  end
  function init(args)
    for line in io.lines(many) do
      local path, body = line:match("([^\t]+)\t(.*)")
      requests[#requests + 1] = wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
    end
    at = start % #requests
  end
  function request()
    at = at % #requests + 1
    return requests[at]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"non2xx":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
