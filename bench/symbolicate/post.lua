-- SPDX-License-Identifier: MPL-2.0
-- wrk script: POSTs the same symbolication body (the file named by SIGIL_BENCH_BODY) on every
-- request (wrk itself reports answers that are not 2xx).
local f = assert(io.open(os.getenv("SIGIL_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
