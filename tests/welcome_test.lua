-- Tests of scripts/welcome.lua.
local test = require("test")

test("greets a new member with a mention", function(t)
  t:load("welcome.lua")
  t:group(100000):join(30001)
  local hello = t:expect_reply("welcome to mahua playground")
  assert(hello.target == 100000)
  assert(hello.chain[1].type == "At" and hello.chain[1].target == 30001, "it mentions the newcomer")
end)
