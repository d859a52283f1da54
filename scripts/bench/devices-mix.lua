-- wrk script for the inventory read-load benchmark (docs/BENCHMARKS.md, issue 6): a mix
-- of the listings a hospital's clients ask for, instead of one URL over and over.
-- Usage: wrk -t2 -c100 -d60s --latency -s scripts/bench/devices-mix.lua \
--          -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8787
-- Each request draws one of (weights in brackets):
--   [30] the default first page (sorted by name, with the total)
--   [15] one site's first page            [10] one category's first page
--   [10] one vendor's first page          [10] newest first (last_seen, descending)
--   [25] a later page by offset (pages 2-20)
-- Free-text search is measured on its own (docs/BENCHMARKS.md, "Inventory page"): a
-- phrase of common trigrams costs tens of milliseconds and would be a different benchmark.
local categories = {"infusion_pump", "patient_monitor", "workstation", "ct_scanner",
                    "printer", "ventilator"}
local vendors = {"Baxter", "Philips", "Dell", "Siemens%20Healthineers", "GE"}
local base = "/api/v1/devices?limit=50"

math.randomseed(os.time())

request = function()
  local r = math.random(100)
  local path
  if r <= 30 then
    path = base
  elseif r <= 45 then
    path = base .. "&site=site-" .. math.random(0, 9)
  elseif r <= 55 then
    path = base .. "&category=" .. categories[math.random(#categories)]
  elseif r <= 65 then
    path = base .. "&vendor=" .. vendors[math.random(#vendors)]
  elseif r <= 75 then
    path = base .. "&sort=last_seen&desc=true"
  else
    path = base .. "&offset=" .. (50 * math.random(1, 19))
  end
  return wrk.format("GET", path)
end
