-- Roll: a command bot. "/roll 6" rolls a six-sided die; "/roll 20 3" rolls three.
-- "/help" lists the commands.

local cmd = require("cmd")

cmd.register("/roll <sides:int> [times:int=1]", function(ev, args)
  if args.sides < 2 or args.times < 1 or args.times > 10 then
    ev:reply("Roll 1 to 10 dice with at least 2 sides.")
    return
  end
  local rolls, total = {}, 0
  for i = 1, args.times do
    rolls[i] = math.random(1, args.sides)
    total = total + rolls[i]
  end
  ev:reply(table.concat(rolls, " + ") .. (args.times > 1 and (" = " .. total) or ""))
end, { aliases = { "/r" }, cooldown = 1 })
