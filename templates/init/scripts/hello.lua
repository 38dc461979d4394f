-- Hello: answers "hello" in a friend chat or a group with a greeting.
-- Save this file while the bot runs and the change takes effect at once.

local msg = require("msg")

bot.on("Message", function(ev)
  if msg.text(ev.messageChain) == "hello" and ev.reply then
    ev:reply("Hello, " .. (ev.sender.nickname or ev.sender.memberName or "friend") .. "!")
  end
end)
