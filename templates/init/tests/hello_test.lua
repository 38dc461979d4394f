-- Tests of scripts/hello.lua. Run them with `mahua test`; `mahua test --watch` runs
-- them again whenever you save a script or a test.
local test = require("test")

test("greets a friend by name", function(t)
  t:load("hello.lua")
  t:friend(12345):say("hello")
  t:expect_reply("^Hello, alice!$")
end)

test("greets in a group too", function(t)
  t:load("hello.lua")
  t:group(100000):member(20001):say("hello")
  local reply = t:expect_reply("^Hello, bob!$")
  assert(reply.target == 100000, "the answer goes to the group")
end)

test("says nothing to anything else", function(t)
  t:load("hello.lua")
  t:friend(12345):say("good morning")
  t:expect_no_reply()
end)
