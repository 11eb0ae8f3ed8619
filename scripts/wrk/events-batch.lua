-- wrk script: POST /api/v1/events with batches of 100 events (100 users, 50 items, mixed types),
-- each request with its own user ids so that the engine sees many users:
-- EVENT_USER_GROUPS x 100 distinct users in all (default 5000 x 100 = 500,000).
local groups = tonumber(os.getenv("EVENT_USER_GROUPS") or "5000")
local types = {"view", "view", "view", "click", "add_to_cart", "purchase"}
local counter = 0
request = function()
  counter = counter + 1
  local parts = {}
  for i = 1, 100 do
    parts[i] = string.format('{"user_id":"u%d_%d","item_id":"i%d","type":"%s","value":1.0}',
      counter % groups, i, (counter + i) % 50, types[(i % #types) + 1])
  end
  local body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/api/v1/events", {["Content-Type"] = "application/json"}, body)
end

-- The PERCENTILES line (scripts/wrk/percentiles.lua, found beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "percentiles.lua")
