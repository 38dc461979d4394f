-- Tests of scripts/daily.lua: a day passes in a moment of virtual time.
local test = require("test")

test("posts every morning at nine", function(t)
  t:load("daily.lua")
  -- Tests start at 2025-01-01 09:00 UTC, so the first post is a day away.
  t:expect_no_reply({within = 60})
  t:advance(24 * 60 * 60)
  local first = t:expect_reply("Good morning")
  assert(first.target == 100000)
  t:advance(24 * 60 * 60)
  t:expect_reply("Good morning")
  assert(#t:sent() == 2, "one post a day")
end)

test("a post the server refuses is logged, not fatal", function(t)
  t:answer("sendGroupMessage", test.fail(20, "the bot is muted"))
  t:load("daily.lua")
  t:advance(24 * 60 * 60)
  assert(#t:calls("sendGroupMessage") == 1, "it tried")
  assert(#t:sent() == 0)
end)
