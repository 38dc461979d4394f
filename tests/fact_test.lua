-- Tests of scripts/fact.lua; the web is answered by the test, as tests reach no network.
local test = require("test")

local URL = "https://uselessfacts.jsph.pl/"

test("tells a fact from the web", function(t)
  t:answer_http(URL, {status = 200, body = {text = "Honey never spoils."}})
  t:load("fact.lua")
  t:friend(12345):say("!fact")
  t:expect_reply("^Honey never spoils%.$")
end)

test("says so when the fact server fails", function(t)
  t:answer_http(URL, {status = 503, body = "down"})
  t:load("fact.lua")
  t:group(100000):member(20003):say("!fact")
  local r = t:expect_reply("not answering")
  assert(r.target == 100000)
end)

test("ignores other messages", function(t)
  t:load("fact.lua")
  t:friend(12345):say("fact?")
  t:expect_no_reply()
end)
