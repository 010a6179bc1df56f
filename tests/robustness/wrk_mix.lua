-- wrk script: the five reference route kinds of benchmarks/app.py, round-robin, POST included.
--   wrk -t2 -c32 -d10s -s tests/robustness/wrk_mix.lua http://127.0.0.1:8000
-- wrk prints "Non-2xx or 3xx responses: N" and "Socket errors: ..." only when they happen.

local requests = {}
local next_index = 0

init = function(args)
  local json = { ["Content-Type"] = "application/json" }
  requests[1] = wrk.format("GET", "/plaintext")
  requests[2] = wrk.format("GET", "/json")
  requests[3] = wrk.format("GET", "/api/v1/r42/7")
  requests[4] = wrk.format("GET", "/search?q=hello&limit=5")
  requests[5] = wrk.format("POST", "/items", json, '{"name":"widget","price":9.5,"tags":["a"]}')
end

request = function()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
