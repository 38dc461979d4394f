-- Daily: posts a message to a group every day at a set time (the bot's local time).
-- Edit the three settings below.

local GROUP = 100000                -- the group to post in
local AT = { hour = 9, min = 0 }    -- when
local TEXT = "Good morning, everyone!"

local DAY = 24 * 60 * 60

-- Seconds from now until the next time the clock shows `at`.
local function seconds_until(at)
  local now = os.time()
  local t = os.date("*t", now)
  t.hour, t.min, t.sec = at.hour, at.min, 0
  local next = os.time(t)
  if next <= now then
    next = next + DAY
  end
  return next - now
end

local function post()
  local ok, err = pcall(mirai.sendGroupMessage, GROUP, TEXT)
  if not ok then
    log.warn("could not post the daily message:", err)
  end
end

bot.after(seconds_until(AT), function()
  post()
  bot.every(DAY, post)
end)
