-- Hello: answers "hello" in a friend chat or a group with a greeting.
-- Save this file while the bot runs and the change takes effect at once.

local msg = require("msg")

bot.on("FriendMessage", function(ev)
  if msg.text(ev.messageChain) == "hello" then
    ev:reply("Hello, " .. ev.sender.nickname .. "!")
  end
end)

bot.on("GroupMessage", function(ev)
  if msg.text(ev.messageChain) == "hello" then
    ev:reply("Hello, " .. ev.sender.memberName .. "!")
  end
end)
