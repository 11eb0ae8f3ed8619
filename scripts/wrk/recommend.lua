-- recommend.lua: POST /api/v1/personalization/recommend for users drawn from a population.
--   RECOMMEND_USERS   users user0..user(N-1) to draw from (default 100000)
--   RECOMMEND_HOT     draw from the first HOT users only (cache-hit runs; 0 = all)
--   RECOMMEND_ZIPF    1: draw users Zipf-like (a realistic repeat pattern), 0: uniformly
--   RECOMMEND_CACHE   "true" or "false": use_cache
--   RECOMMEND_MIX     percent of requests that are events or feedback instead (mixed load)
local users = tonumber(os.getenv("RECOMMEND_USERS") or "100000")
local hot = tonumber(os.getenv("RECOMMEND_HOT") or "0")
local zipf = os.getenv("RECOMMEND_ZIPF") == "1"
local cache = os.getenv("RECOMMEND_CACHE") or "false"
local mix = tonumber(os.getenv("RECOMMEND_MIX") or "0")
local items = tonumber(os.getenv("RECOMMEND_ITEMS") or "10000")
local counter = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
end

local function pick_user()
  local n = (hot > 0) and hot or users
  if zipf then
    local u = math.floor(n ^ math.random()) - 1
    return u
  end
  return math.random(0, n - 1)
end

request = function()
  counter = counter + 1
  local user = "user" .. pick_user()
  local headers = { ["Content-Type"] = "application/json" }
  if mix > 0 and math.random(1, 100) <= mix then
    local item = "item" .. math.random(0, items - 1)
    if math.random(1, 2) == 1 then
      return wrk.format("POST", "/api/v1/events", headers,
        '{"events":[{"user_id":"' .. user .. '","item_id":"' .. item .. '","type":"click"}]}')
    end
    return wrk.format("POST", "/api/v1/personalization/feedback", headers,
      '{"request_id":"bench-' .. counter .. '","user_id":"' .. user .. '","item_id":"' .. item .. '","feedback_type":"click"}')
  end
  return wrk.format("POST", "/api/v1/personalization/recommend", headers,
    '{"user_id":"' .. user .. '","n_recommendations":10,"scenario":"homepage","use_cache":' .. cache .. '}')
end

-- The PERCENTILES line (scripts/wrk/percentiles.lua, found beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "percentiles.lua")
