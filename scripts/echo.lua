-- Echo: "echo <words>" in a friend chat or a group gets the words back.
-- The smallest useful bot: it needs nothing but `bot` and `mirai`.

-- The text of a message: its Plain elements, joined.
local function text_of(chain)
  local parts = {}
  for _, element in ipairs(chain) do
    if element.type == "Plain" then
      parts[#parts + 1] = element.text
    end
  end
  return table.concat(parts)
end

bot.on("FriendMessage", function(ev)
  local words = text_of(ev.messageChain):match("^echo%s+(.+)")
  if words then
    mirai.sendFriendMessage(ev.sender.id, words)
  end
end)

bot.on("GroupMessage", function(ev)
  local words = text_of(ev.messageChain):match("^echo%s+(.+)")
  if words then
    mirai.sendGroupMessage(ev.sender.group.id, words)
  end
end)
