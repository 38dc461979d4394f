-- Tests of scripts/echo.lua; run them with `mahua test`.
local test = require("test")

test("echoes a friend's words", function(t)
  t:load("echo.lua")
  t:friend(12345):say("echo hello there")
  local reply = t:expect_reply("^hello there$")
  assert(reply.target == 12345, "the reply goes to the friend")
end)

test("echoes in a group, to the group", function(t)
  t:load("echo.lua")
  t:group(100000):member(20003):say("echo hi all")
  local reply = t:expect_reply("hi all")
  assert(reply.command == "sendGroupMessage" and reply.target == 100000)
end)

test("stays quiet on anything else", function(t)
  t:load("echo.lua")
  t:friend(12345):say("hello")
  t:expect_no_reply({within = 5})
end)
