-- Echo: answers every friend and group message with the same message.
-- Try it: `cargo run --release` and say something.

bot.on("FriendMessage", function(ev)
  local chain = {}
  for i = 2, #ev.messageChain do -- skip the Source element
    chain[#chain + 1] = ev.messageChain[i]
  end
  mirai.sendFriendMessage(ev.sender.id, chain)
end)

bot.on("GroupMessage", function(ev)
  local chain = {}
  for i = 2, #ev.messageChain do
    chain[#chain + 1] = ev.messageChain[i]
  end
  mirai.sendGroupMessage(ev.sender.group.id, chain)
end)
