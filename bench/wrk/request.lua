-- One request, repeated on every connection: bench/pipeline.py passes it after `--`:
--   wrk ... -s request.lua URL -- METHOD PATH BODY ["Header: value" ...]
-- (BODY "" for none). At the end it prints one JSON line (times in microseconds) that
-- bench/pipeline.py reads: the counts, the error kinds and the latency percentiles.

local method, path, body, headers

function init(args)
  method, path, body = args[1], args[2], args[3]
  headers = {}
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  if body == "" then body = nil end
end

function request()
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d,'
    .. ' "write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d,'
    .. ' "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
