-- Welcome: greets everyone who joins a group the bot is in.

bot.on("MemberJoinEvent", function(ev)
  local member = ev.member
  mirai.sendGroupMessage(member.group.id, {
    { type = "At", target = member.id },
    " welcome to " .. member.group.name .. "! Say /help to see what I can do.",
  })
end)
