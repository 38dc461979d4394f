-- Tests of scripts/guess.lua: a game that waits for the player's answers.
local test = require("test")

test("answers higher or lower until the number is found", function(t)
  t:load("guess.lua")
  local alice = t:friend(12345)
  alice:say("guess")
  t:expect_reply("I'm thinking of a number")
  local low, high = 1, 100
  for _ = 1, 7 do
    local n = (low + high) // 2
    alice:say(tostring(n))
    local r = t:expect_reply("").text
    if r:find("^Right") then return end
    if r == "Higher." then low = n + 1 else high = n - 1 end
  end
  error("a binary search finds 1..100 in 7 tries")
end)

test("only the player's messages count", function(t)
  t:load("guess.lua")
  t:friend(12345):say("guess")
  t:expect_reply("I'm thinking")
  t:friend(54321):say("50")
  t:expect_no_reply({within = 5})
end)

test("a player who goes quiet loses after a minute", function(t)
  t:load("guess.lua")
  t:friend(12345):say("guess")
  t:expect_reply("I'm thinking")
  t:advance(61)
  t:expect_reply("^Too slow! It was %d+%.$")
end)
