-- wrk script for the inventory read-load benchmark (docs/BENCHMARKS.md, issue 6): a mix
-- of the listings a hospital's clients ask for, instead of one URL over and over.
-- Usage: wrk -t2 -c100 -d60s --latency -s scripts/bench/devices-mix.lua \
--          -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8787
-- Each request draws one of (weights in brackets):
--   [30] the default first page (sorted by name, with the total)
--   [15] one site's first page            [10] one category's first page
--   [10] one vendor's first page          [10] newest first (last_seen, descending)
--   [20] a page anywhere in the inventory by cursor (`after=`, keyset: how the web UI
--        and a client walking the list page; the cursor of `load_seed`'s device number
--        i is computed here as the server writes it)
--   [5]  a later page by offset (pages 2-20; each skipped row is read, so offsets cost)
-- Free-text search is measured on its own (docs/BENCHMARKS.md, "Inventory page"): a
-- phrase of common trigrams costs tens of milliseconds and would be a different benchmark.
local categories = {"infusion_pump", "patient_monitor", "workstation", "ct_scanner",
                    "printer", "ventilator"}
local vendors = {"Baxter", "Philips", "Dell", "Siemens%20Healthineers", "GE"}
local base = "/api/v1/devices?limit=50"

math.randomseed(os.time())

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", string.byte(c)) end))
end

-- The cursor after load_seed's device i in the default order (name, then id).
local function cursor_after(i)
  return hex(string.format('["host-%07d","dev-%012x"]', i, i))
end

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
  elseif r <= 95 then
    path = base .. "&after=" .. cursor_after(50 * math.random(1, 19999) - 1)
  else
    path = base .. "&offset=" .. (50 * math.random(1, 19))
  end
  return wrk.format("GET", path)
end
