-- Fact: answers "!fact" with a fact fetched from the web, in a friend chat or a group.

local http = require("http")
local msg = require("msg")

local URL = "https://uselessfacts.jsph.pl/api/v2/facts/random?language=en"

bot.on("Message", function(ev)
  if msg.text(ev.messageChain or {}) ~= "!fact" or not ev.reply then
    return
  end
  local ok, res = pcall(http.get, URL, { headers = { accept = "application/json" }, timeout = 5 })
  if not ok or res.status ~= 200 then
    ev:reply("The fact server is not answering right now.")
    log.warn("fact:", ok and ("HTTP " .. res.status) or res)
    return
  end
  local fact = json.decode(res.body)
  ev:reply(fact and fact.text or "The fact server sent something odd.")
end)
