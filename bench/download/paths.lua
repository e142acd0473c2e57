-- SPDX-License-Identifier: MPL-2.0
-- wrk script: cycles through the request paths listed (one per line) in the file named by the
-- environment variable SIGIL_BENCH_PATHS, so every seeded symbol is requested.
local paths = {}
local i = 0

function init(args)
  local f = assert(io.open(os.getenv("SIGIL_BENCH_PATHS"), "r"))
  for line in f:lines() do
    paths[#paths + 1] = line
  end
  f:close()
end

function request()
  i = (i % #paths) + 1
  return wrk.format("GET", paths[i])
end
