-- cmd: a command router for chat commands like "/roll 6 2".
--
--   local cmd = require("cmd")
--   cmd.register("/roll <sides:int> [times:int=1]", function(ev, args)
--     return ("rolled %d"):format(math.random(args.sides))
--   end, { aliases = { "/r" }, cooldown = 5 })
--
-- Argument types: int, number, string, qq (an @mention or a number), rest (the
-- rest of the line). `<name:type>` is required, `[name:type]` optional and
-- `[name:type=default]` optional with a default. A quoted "two words" is one
-- argument. `/help` lists the commands; `/help roll` shows one.

local M = {}

local bot = require("bot")

local type, error, tostring, tonumber, ipairs, pairs = type, error, tostring, tonumber, ipairs, pairs
local tointeger, ceil, concat = math.tointeger, math.ceil, table.concat

local LEVELS = { MEMBER = 1, ADMINISTRATOR = 2, OWNER = 3 }

local SCOPES = {
  group = { GroupMessage = true },
  friend = { FriendMessage = true, StrangerMessage = true, TempMessage = true },
  all = {
    GroupMessage = true, FriendMessage = true, StrangerMessage = true, TempMessage = true,
    OtherClientMessage = true,
  },
}

local prefixes = { "/" }
local commands = {} -- by name, without prefix
local aliases = {} -- alias name (without prefix) -> command name
local order = {} -- command names in registration order
local last_used = {} -- command name -> sender id -> os.time() of the last run
local hooked = false

-- Converters from an argument's text to its value; nil when it does not fit.
local CONVERT = {
  int = function(s)
    if not s:match("^[+-]?%d+$") then return nil end
    return tointeger(tonumber(s))
  end,
  number = function(s)
    return tonumber(s)
  end,
  string = function(s)
    return s
  end,
  qq = function(s)
    local digits = s:match("^@?(%d+)$")
    return digits and tointeger(tonumber(digits)) or nil
  end,
  rest = function(s)
    return s
  end,
}

local WHAT = {
  int = "an integer",
  number = "a number",
  string = "a string",
  qq = "a QQ number or an @mention",
  rest = "text",
}

-- The longest prefix `word` starts with, or nil.
local function prefix_of(word)
  local best
  for _, p in ipairs(prefixes) do
    if word:sub(1, #p) == p and (best == nil or #p > #best) then best = p end
  end
  return best
end

-- A command name as written in a spec or an alias, without its prefix; an unknown
-- punctuation prefix (as in "!roll") joins the prefix list.
local function bare_name(fn, word)
  local p = prefix_of(word)
  if p == nil or p == "" then
    local punct = word:match("^%p+")
    if punct then
      prefixes[#prefixes + 1] = punct
      p = punct
    end
  end
  local rest = word:sub(#(p or "") + 1)
  if rest == "" then error(("cmd.%s: %q is not a command name"):format(fn, word), 3) end
  return rest
end

-- The parameters of a spec like "/roll <sides:int> [times:int=1]".
local function parse_spec(spec)
  local name_word, params_text = spec:match("^%s*(%S+)(.-)%s*$")
  if not name_word then error("cmd.register: spec must start with the command name", 3) end
  local params, seen_optional = {}, false
  local leftover = params_text:gsub("([<%[])([^>%]]*)([>%]])", function(open, body, close)
    local optional = open == "["
    if (open == "<") ~= (close == ">") then
      error(("cmd.register: %q: mismatched brackets"):format(open .. body .. close), 5)
    end
    local pname, ty, eq, default = body:match("^%s*([%a_][%w_]*)%s*:?%s*(%a*)%s*(=?)(.-)%s*$")
    if not pname then
      error(("cmd.register: %q is not a parameter (write <name:type> or [name:type=default])"):format(open .. body .. close), 5)
    end
    if ty == "" then ty = "string" end
    if not CONVERT[ty] then
      error(("cmd.register: %s: unknown type %q (int, number, string, qq or rest)"):format(pname, ty), 5)
    end
    if not optional and seen_optional then
      error(("cmd.register: required <%s> after an optional parameter"):format(pname), 5)
    end
    local p = { name = pname, type = ty, optional = optional }
    if eq == "=" then
      if not optional then error(("cmd.register: <%s> is required and cannot have a default"):format(pname), 5) end
      p.default = CONVERT[ty](default)
      if p.default == nil then
        error(("cmd.register: the default of %s must be %s, got %q"):format(pname, WHAT[ty], default), 5)
      end
    end
    seen_optional = seen_optional or optional
    params[#params + 1] = p
    return ""
  end)
  if leftover:find("%S") then
    error(("cmd.register: cannot read %q in the spec (write <name:type> or [name:type=default])"):format(leftover:match("^%s*(.-)%s*$")), 3)
  end
  for i, p in ipairs(params) do
    if p.type == "rest" and i ~= #params then
      error(("cmd.register: %s of type rest must be the last parameter"):format(p.name), 3)
    end
  end
  return name_word, params
end

-- The arguments of a command line after the name: tokens with their start, or nil and why.
---@return {text: string, start: integer}[]?
---@return string?
local function tokenize(line)
  local tokens, i, n = {}, 1, #line
  while true do
    local s = line:find("%S", i)
    if not s then break end
    if line:sub(s, s) == '"' then
      local buf, j, closed = {}, s + 1, false
      while j <= n do
        local ch = line:sub(j, j)
        if ch == "\\" and j < n then
          buf[#buf + 1] = line:sub(j + 1, j + 1)
          j = j + 2
        elseif ch == '"' then
          closed = true
          j = j + 1
          break
        else
          buf[#buf + 1] = ch
          j = j + 1
        end
      end
      if not closed then return nil, "a quote is not closed" end
      tokens[#tokens + 1] = { text = concat(buf), start = s }
      i = j
    else
      local e = line:find("%s", s) or n + 1
      tokens[#tokens + 1] = { text = line:sub(s, e - 1), start = s }
      i = e
    end
  end
  return tokens
end

-- The arguments by name, or nil and what is wrong.
local function parse_args(command, line)
  local tokens, why = tokenize(line)
  if not tokens then return nil, why end
  local args, t = {}, 1
  for _, p in ipairs(command.params) do
    local tok = tokens[t]
    if tok == nil then
      if not p.optional then return nil, ("missing <%s>"):format(p.name) end
      args[p.name] = p.default
    elseif p.type == "rest" then
      args[p.name] = line:sub(tok.start):match("^%s*(.-)%s*$")
      t = #tokens + 1
    else
      local v = CONVERT[p.type](tok.text)
      if v == nil then return nil, ("%s must be %s, got %q"):format(p.name, WHAT[p.type], tok.text) end
      args[p.name] = v
      t = t + 1
    end
  end
  local extra = tokens[t]
  if extra then return nil, ("too many arguments (from %q on)"):format(extra.text) end
  return args
end

-- The text of a message as the router reads it: Plain text, with @mentions as "@qq".
local function line_of(chain)
  local parts = {}
  for _, e in ipairs(chain or {}) do
    if e.type == "Plain" then
      parts[#parts + 1] = e.text
    elseif e.type == "At" then
      parts[#parts + 1] = " @" .. tostring(e.target) .. " "
    end
  end
  return concat(parts)
end

local function level_of(ev)
  return LEVELS[ev.sender and ev.sender.permission] or 0
end

local function find_command(name)
  return commands[name] or commands[aliases[name]]
end

local function help_list(ev)
  local lines = { "Commands:" }
  for _, name in ipairs(order) do
    local c = commands[name]
    if c and c.scope[ev.type] then
      local line = c.usage
      if c.description then line = line .. " — " .. c.description end
      lines[#lines + 1] = line
    end
  end
  lines[#lines + 1] = prefixes[1] .. "help <command> shows one command."
  return concat(lines, "\n")
end

local function help_one(ev, word)
  local p = prefix_of(word)
  local c = find_command(p and word:sub(#p + 1) or word)
  if not c or not c.scope[ev.type] then
    return ("No command %s. Send %shelp for the list."):format(word, prefixes[1])
  end
  local lines = { "Usage: " .. c.usage }
  if c.description then lines[#lines + 1] = c.description end
  if #c.aliases > 0 then lines[#lines + 1] = "Aliases: " .. concat(c.aliases, ", ") end
  if c.permission then lines[#lines + 1] = "Permission: " .. c.permission end
  if c.cooldown > 0 then lines[#lines + 1] = ("Cooldown: %gs"):format(c.cooldown) end
  return concat(lines, "\n")
end

--- Handle a message event as a command; done for every message once a command is registered.
---@param ev table the message event
---@return boolean handled true if the message was a command (run, refused or answered with usage)
function M.handle(ev)
  if type(ev) ~= "table" or not SCOPES.all[ev.type] then return false end
  local line = line_of(ev.messageChain)
  local word, after = line:match("^%s*(%S+)(.*)$")
  if not word or not after then return false end
  local p = prefix_of(word)
  if not p then return false end
  local name = word:sub(#p + 1)
  local c = find_command(name)
  if not c then
    if name ~= "help" then return false end
    local topic = after:match("^%s*(%S+)")
    ev:reply(topic and help_one(ev, topic) or help_list(ev))
    return true
  end
  if not c.scope[ev.type] then return false end
  if c.level > level_of(ev) then
    ev:reply(("You need %s permission in a group to use %s."):format(c.permission, c.display))
    return true
  end
  local args, why = parse_args(c, after)
  if not args then
    ev:reply(("%s\nUsage: %s"):format(why, c.usage))
    return true
  end
  local who = ev.sender and ev.sender.id or 0
  if c.cooldown > 0 then
    local now = os.time()
    local last = last_used[c.name][who]
    if last and now - last < c.cooldown then
      ev:reply(("Please wait %ds before using %s again."):format(ceil(c.cooldown - (now - last)), c.display))
      return true
    end
    last_used[c.name][who] = now
  end
  local answer = c.fn(ev, args)
  if answer ~= nil then ev:reply(answer) end
  return true
end

--- Register a command: its name and parameters, the function that runs it, and options.
---@param spec string the name and parameters, e.g. "/roll <sides:int> [times:int=1]" (types: int, number, string, qq, rest)
---@param fn fun(ev: table, args: table): any runs the command with the parsed arguments by name; a value it returns is sent as the reply
---@param opts? {aliases?: string[], permission?: "MEMBER"|"ADMINISTRATOR"|"OWNER", cooldown?: number, scope?: "group"|"friend"|"all", description?: string} aliases, the group permission needed, seconds between uses per user, where it works ("friend" = private chats), a line for /help
---@return table command the registered command: name, usage, aliases, permission, cooldown
function M.register(spec, fn, opts)
  if type(spec) ~= "string" then error("cmd.register: spec must be a string, got a " .. type(spec), 2) end
  if type(fn) ~= "function" then error("cmd.register: fn must be a function, got a " .. type(fn), 2) end
  if opts ~= nil and type(opts) ~= "table" then error("cmd.register: opts must be a table, got a " .. type(opts), 2) end
  opts = opts or {}
  local word, params = parse_spec(spec)
  local name = bare_name("register", word)
  local level = 0
  if opts.permission ~= nil then
    level = LEVELS[opts.permission]
    if not level then
      error("cmd.register: permission must be MEMBER, ADMINISTRATOR or OWNER, got " .. tostring(opts.permission), 2)
    end
  end
  local scope = opts.scope or "all"
  if not SCOPES[scope] then
    error("cmd.register: scope must be group, friend or all, got " .. tostring(scope), 2)
  end
  local cooldown = opts.cooldown or 0
  if type(cooldown) ~= "number" or cooldown < 0 then
    error("cmd.register: cooldown must be a number of seconds, got " .. tostring(cooldown), 2)
  end
  if opts.description ~= nil and type(opts.description) ~= "string" then
    error("cmd.register: description must be a string", 2)
  end
  local display = (prefix_of(word) and word) or (prefixes[1] .. word)
  local usage = display .. (spec:match("^%s*%S+(.-)%s*$") or "")
  local alias_list = {}
  if opts.aliases ~= nil then
    if type(opts.aliases) ~= "table" then error("cmd.register: aliases must be a list of names", 2) end
    for i, a in ipairs(opts.aliases) do
      if type(a) ~= "string" then error(("cmd.register: aliases[%d] must be a string"):format(i), 2) end
      alias_list[i] = (prefix_of(a) and a) or (prefixes[1] .. a)
    end
  end
  if commands[name] then M.remove(name) end
  local c = {
    name = name,
    display = display,
    usage = usage,
    params = params,
    fn = fn,
    aliases = alias_list,
    permission = opts.permission,
    level = level,
    cooldown = cooldown,
    scope = SCOPES[scope],
    description = opts.description,
  }
  for _, a in ipairs(alias_list) do aliases[bare_name("register", a)] = name end
  commands[name] = c
  order[#order + 1] = name
  last_used[name] = {}
  if not hooked then
    hooked = true
    bot.on("Message", M.handle)
  end
  return { name = name, usage = usage, aliases = alias_list, permission = opts.permission, cooldown = cooldown }
end

--- Remove a registered command and its aliases.
---@param name string the command's name, with or without its prefix
---@return boolean removed true if there was such a command
function M.remove(name)
  if type(name) ~= "string" then error("cmd.remove: name must be a string, got a " .. type(name), 2) end
  local p = prefix_of(name)
  local bare = p and name:sub(#p + 1) or name
  if not commands[bare] then return false end
  commands[bare] = nil
  last_used[bare] = nil
  for a, target in pairs(aliases) do
    if target == bare then aliases[a] = nil end
  end
  for i = #order, 1, -1 do
    if order[i] == bare then table.remove(order, i) end
  end
  return true
end

--- Set the prefixes a command may start with (default {"/"}); "" allows bare names.
---@param list string[] the prefixes, e.g. {"/", "!", "！"}
---@return string[] prefixes the prefixes now in use
function M.setPrefixes(list)
  if type(list) ~= "table" or #list == 0 then
    error("cmd.setPrefixes: list must be a non-empty list of strings", 2)
  end
  local new = {}
  for i, p in ipairs(list) do
    if type(p) ~= "string" then error(("cmd.setPrefixes: list[%d] must be a string"):format(i), 2) end
    new[i] = p
  end
  prefixes = new
  return { table.unpack(prefixes) }
end

return M
