-- Guess: a number-guessing game. Say "guess" to a bot that is your friend;
-- it waits for your answers (and only yours) with bot.wait.

local msg = require("msg")

local TRIES = 7

bot.on("FriendMessage", function(ev)
  if msg.text(ev.messageChain) ~= "guess" then
    return
  end
  local secret = math.random(1, 100)
  ev:reply("I'm thinking of a number from 1 to 100. You have " .. TRIES .. " tries.")
  local same_person = function(e) return e.sender.id == ev.sender.id end
  for try = 1, TRIES do
    local answer = bot.wait("FriendMessage", same_person, 60)
    if not answer then
      ev:reply("Too slow! It was " .. secret .. ".")
      return
    end
    local n = tonumber(msg.text(answer.messageChain))
    if not n then
      ev:reply("That's not a number. Game over; it was " .. secret .. ".")
      return
    elseif n < secret then
      ev:reply("Higher.")
    elseif n > secret then
      ev:reply("Lower.")
    else
      ev:reply("Right, in " .. try .. (try == 1 and " try!" or " tries!"))
      return
    end
  end
  ev:reply("Out of tries! It was " .. secret .. ".")
end)
