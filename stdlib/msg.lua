-- msg: message chains for mirai-api-http 2.x.
--
-- Builders return chains: lists of message elements that join with `..`,
-- with each other, with single elements and with strings on either side:
--
--   mirai.sendGroupMessage(group, msg.at(qq) .. " hello " .. msg.face("微笑"))
--
-- Readers take a chain (or a message event) and look inside it. Message events
-- a script receives have `ev:reply(chain)` and `ev:quote(chain)`.

local M = {}

local mirai = require("mirai")

local type, error, select, tostring, setmetatable = type, error, select, tostring, setmetatable
local math_type, tointeger, concat = math.type, math.tointeger, table.concat

-- A list of message elements that joins with `..`.
---@class mahua.Chain: table

local Chain = {}

-- What a value is, for error messages.
local function describe(v)
  local t = type(v)
  if t == "number" then
    return math_type(v) == "integer" and "an integer" or "a number"
  elseif t == "nil" then
    return "nil"
  end
  return "a " .. t
end

-- Raise `msg.<fn>: <arg> must be <what>, got <v>` at the script's line: `level` is how many
-- of this module's functions sit between the caller of `bad` and the script (1 for a builder).
local function bad(fn, arg, what, v, level)
  error(("msg.%s: %s must be %s, got %s"):format(fn, arg, what, describe(v)), level + 2)
end

-- The checks below are called from a builder, or `up` functions further down.
local function need_int(fn, arg, v, up)
  local i = type(v) == "number" and tointeger(v) or nil
  if i == nil then bad(fn, arg, "an integer", v, 2 + (up or 0)) end
  return i
end

local function need_str(fn, arg, v, up)
  if type(v) ~= "string" then bad(fn, arg, "a string", v, 2 + (up or 0)) end
  return v
end

local function opt_str(fn, arg, v, up)
  if v ~= nil and type(v) ~= "string" then bad(fn, arg, "a string", v, 2 + (up or 0)) end
  return v
end

local function need_table(fn, arg, v, up)
  if type(v) ~= "table" then bad(fn, arg, "a table", v, 2 + (up or 0)) end
  return v
end

local function is_element(v)
  return type(v) == "table" and type(v.type) == "string"
end

local function chain_of(list)
  return setmetatable(list, Chain)
end

-- Append to `out` the elements of a string, an element or a list; false if `v` is none of these.
local function append(out, v)
  local t = type(v)
  if t == "string" or t == "number" then
    local s = tostring(v)
    if s ~= "" then out[#out + 1] = { type = "Plain", text = s } end
    return true
  elseif t ~= "table" then
    return false
  elseif is_element(v) then
    out[#out + 1] = v
    return true
  elseif v.messageChain ~= nil then
    return false
  end
  for i = 1, #v do
    local item = v[i]
    if type(item) == "string" then
      if item ~= "" then out[#out + 1] = { type = "Plain", text = item } end
    elseif is_element(item) then
      out[#out + 1] = item
    else
      return false
    end
  end
  return true
end

-- The elements of something that may be a chain, an element, a string or a message event.
local function elements(fn, v)
  if type(v) == "table" and type(v.messageChain) == "table" then v = v.messageChain end
  if is_element(v) then return { v } end
  if type(v) == "string" then return v == "" and {} or { { type = "Plain", text = v } } end
  if type(v) ~= "table" then bad(fn, "chain", "a message chain", v, 2) end
  return v
end

Chain.__concat = function(a, b)
  local out = {}
  if not append(out, a) then
    error("msg: cannot join " .. describe(a) .. " to a message chain", 2)
  end
  if not append(out, b) then
    error("msg: cannot join " .. describe(b) .. " to a message chain", 2)
  end
  return chain_of(out)
end

Chain.__tostring = function(c)
  local parts = {}
  for i = 1, #c do
    local e = c[i]
    if type(e) ~= "table" then
      parts[#parts + 1] = tostring(e)
    elseif e.type == "Plain" then
      parts[#parts + 1] = tostring(e.text)
    elseif e.type == "At" then
      parts[#parts + 1] = "[At " .. tostring(e.target) .. "]"
    elseif e.type ~= "Source" then
      parts[#parts + 1] = "[" .. tostring(e.type) .. "]"
    end
  end
  return concat(parts)
end

local function one(element)
  return chain_of({ element })
end

--- A chain from any mix of strings, elements and chains (none: an empty chain).
---@param ... string|table strings, message elements or chains, in order
---@return mahua.Chain chain the joined chain
function M.chain(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if not append(out, v) then bad("chain", "argument " .. i, "a string, an element or a chain", v, 1) end
  end
  return chain_of(out)
end

--- A text element.
---@param text string the text
---@return mahua.Chain chain a chain of one Plain element
function M.plain(text)
  if type(text) == "number" then text = tostring(text) end
  return one({ type = "Plain", text = need_str("plain", "text", text) })
end

--- A mention of a group member (works in group messages only).
---@param qq integer the member's QQ number
---@return mahua.Chain chain a chain of one At element
function M.at(qq)
  return one({ type = "At", target = need_int("at", "qq", qq) })
end

--- A mention of everyone in the group (needs the bot to be an administrator).
---@return mahua.Chain chain a chain of one AtAll element
function M.atAll()
  return one({ type = "AtAll" })
end

--- A QQ face, by id or by name.
---@param id_or_name integer|string the face id (e.g. 14) or its name (e.g. "微笑")
---@param super? boolean true for the animated "super" version
---@return mahua.Chain chain a chain of one Face element
function M.face(id_or_name, super)
  local e = { type = "Face" }
  if type(id_or_name) == "string" then
    e.name = id_or_name
  elseif type(id_or_name) == "number" then
    e.faceId = need_int("face", "id_or_name", id_or_name)
  else
    bad("face", "id_or_name", "an integer or a string", id_or_name, 1)
  end
  if super ~= nil then
    if type(super) ~= "boolean" then bad("face", "super", "a boolean", super, 1) end
    e.isSuperFace = super
  end
  return one(e)
end

-- An Image/FlashImage/Voice element from an id-or-url string or a table of sources.
local function media(fn, ty, id_key, src)
  local e = { type = ty }
  if type(src) == "string" then
    if src:match("^https?://") then e.url = src else e[id_key] = src end
    return one(e)
  end
  if type(src) ~= "table" then
    bad(fn, "source", "a table {" .. id_key .. "=|url=|path=|base64=} or a string", src, 2)
  end
  local found = false
  for key, v in pairs(src) do
    if key == id_key or key == "url" or key == "path" or key == "base64" then
      if type(v) ~= "string" then bad(fn, key, "a string", v, 2) end
      e[key] = v
      found = true
    elseif key == "isEmoji" and ty ~= "Voice" then
      if type(v) ~= "boolean" then bad(fn, key, "a boolean", v, 2) end
      e[key] = v
    else
      error(("msg.%s: unknown field %s (expected %s, url, path or base64)"):format(fn, tostring(key), id_key), 3)
    end
  end
  if not found then bad(fn, "source", "given as one of " .. id_key .. ", url, path or base64", nil, 2) end
  return one(e)
end

--- An image, from an uploaded image id, a URL, a path on the server or base64 data.
---@param source string|{imageId?: string, url?: string, path?: string, base64?: string, isEmoji?: boolean} an image id or URL, or a table naming the source
---@return mahua.Chain chain a chain of one Image element
function M.image(source)
  local c = media("image", "Image", "imageId", source)
  return c
end

--- A flash image (the server currently sends it as an ordinary image).
---@param source string|{imageId?: string, url?: string, path?: string, base64?: string} an image id or URL, or a table naming the source
---@return mahua.Chain chain a chain of one FlashImage element
function M.flashImage(source)
  local c = media("flashImage", "FlashImage", "imageId", source)
  return c
end

--- A voice message (friends and groups only).
---@param source string|{voiceId?: string, url?: string, path?: string, base64?: string} a voice id or URL, or a table naming the source
---@return mahua.Chain chain a chain of one Voice element
function M.voice(source)
  local c = media("voice", "Voice", "voiceId", source)
  return c
end

--- An XML service message.
---@param xml string the XML text
---@return mahua.Chain chain a chain of one Xml element
function M.xml(xml)
  return one({ type = "Xml", xml = need_str("xml", "xml", xml) })
end

--- A JSON service message.
---@param json string|table the JSON text, or a table to encode
---@return mahua.Chain chain a chain of one Json element
function M.json(json)
  if type(json) == "table" then json = require("json").encode(json) end
  return one({ type = "Json", json = need_str("json", "json", json) })
end

--- A LightApp message.
---@param content string the app's JSON content
---@return mahua.Chain chain a chain of one App element
function M.app(content)
  return one({ type = "App", content = need_str("app", "content", content) })
end

--- A poke (戳一戳) message.
---@param name? string the poke's name ("ChuoYiChuo", "BiXin", "DianZan", "XinSui", "LiuLiuLiu", "FangDaZhao", …); "ChuoYiChuo" when left out
---@return mahua.Chain chain a chain of one Poke element
function M.poke(name)
  if name == nil then name = "ChuoYiChuo" end
  need_str("poke", "name", name)
  if name == "" then bad("poke", "name", "a poke name", name, 1) end
  return one({ type = "Poke", name = name })
end

--- A dice showing a value.
---@param value integer the face shown, 1 to 6
---@return mahua.Chain chain a chain of one Dice element
function M.dice(value)
  local v = need_int("dice", "value", value)
  if v < 1 or v > 6 then bad("dice", "value", "an integer from 1 to 6", value, 1) end
  return one({ type = "Dice", value = v })
end

--- A market face (only received; the server drops it on send).
---@param id integer the market face id
---@param name string its name
---@return mahua.Chain chain a chain of one MarketFace element
function M.marketFace(id, name)
  return one({ type = "MarketFace", id = need_int("marketFace", "id", id), name = need_str("marketFace", "name", name) })
end

local MUSIC_KINDS = {
  NeteaseCloudMusic = true, QQMusic = true, MiguMusic = true, KugouMusic = true, KuwoMusic = true,
}

--- A music share card.
---@param share {kind: string, title: string, summary?: string, jumpUrl: string, pictureUrl: string, musicUrl: string, brief?: string} kind is NeteaseCloudMusic, QQMusic, MiguMusic, KugouMusic or KuwoMusic; summary defaults to "", brief to the title
---@return mahua.Chain chain a chain of one MusicShare element
function M.musicShare(share)
  need_table("musicShare", "share", share)
  if not MUSIC_KINDS[share.kind] then
    bad("musicShare", "kind", "NeteaseCloudMusic, QQMusic, MiguMusic, KugouMusic or KuwoMusic", share.kind, 1)
  end
  local title = need_str("musicShare", "title", share.title)
  return one({
    type = "MusicShare",
    kind = share.kind,
    title = title,
    summary = opt_str("musicShare", "summary", share.summary) or "",
    jumpUrl = need_str("musicShare", "jumpUrl", share.jumpUrl),
    pictureUrl = need_str("musicShare", "pictureUrl", share.pictureUrl),
    musicUrl = need_str("musicShare", "musicUrl", share.musicUrl),
    brief = opt_str("musicShare", "brief", share.brief) or title,
  })
end

-- A plain list of elements (for chains nested inside elements).
local function plain_list(fn, arg, v)
  local out = {}
  if not append(out, v) then bad(fn, arg, "a message chain", v, 3) end
  return out
end

-- One forward node from a node table or a message event.
local function forward_node(i, node)
  local arg = "nodes[" .. i .. "]"
  if type(node) ~= "table" then bad("forward", arg, "a table", node, 2) end
  if type(node.messageChain) == "table" and type(node.sender) == "table" then
    local chain, time = {}, nil
    for _, e in ipairs(node.messageChain) do
      if e.type == "Source" then time = e.time elseif e.type ~= "Quote" then chain[#chain + 1] = e end
    end
    local s = node.sender
    return {
      senderId = s.id,
      senderName = s.memberName or s.nickname or tostring(s.id),
      time = time,
      messageChain = chain,
    }
  end
  if node.messageId ~= nil then
    return { messageId = need_int("forward", arg .. ".messageId", node.messageId, 1) }
  end
  if node.messageRef ~= nil then
    local ref = need_table("forward", arg .. ".messageRef", node.messageRef, 1)
    return {
      messageRef = {
        messageId = need_int("forward", arg .. ".messageRef.messageId", ref.messageId, 1),
        target = need_int("forward", arg .. ".messageRef.target", ref.target, 1),
      },
    }
  end
  return {
    senderId = need_int("forward", arg .. ".senderId", node.senderId, 1),
    senderName = need_str("forward", arg .. ".senderName", node.senderName, 1),
    time = node.time ~= nil and need_int("forward", arg .. ".time", node.time, 1) or nil,
    messageChain = plain_list("forward", arg .. ".messageChain", node.messageChain),
  }
end

--- A forwarded conversation (合并转发).
---@param nodes table[] the messages: each {senderId=, senderName=, messageChain=, time=?}, {messageId=}, {messageRef={messageId=, target=}}, or a message event
---@param display? {title?: string, brief?: string, source?: string, preview?: string[], summary?: string} how the card looks
---@return mahua.Chain chain a chain of one Forward element
function M.forward(nodes, display)
  need_table("forward", "nodes", nodes)
  if #nodes == 0 then bad("forward", "nodes", "a non-empty list", nodes, 1) end
  local list = {}
  for i = 1, #nodes do list[i] = forward_node(i, nodes[i]) end
  local e = { type = "Forward", nodeList = list }
  if display ~= nil then
    need_table("forward", "display", display)
    local d = {}
    for _, key in ipairs({ "title", "brief", "source", "summary" }) do
      d[key] = opt_str("forward", "display." .. key, display[key])
    end
    if display.preview ~= nil then
      local p = need_table("forward", "display.preview", display.preview)
      d.preview = {}
      for i = 1, #p do d.preview[i] = need_str("forward", "display.preview[" .. i .. "]", p[i]) end
    end
    e.display = d
  end
  return one(e)
end

--- A group file (only received; send files with mirai.file_upload).
---@param id string the file id
---@param name string the file name
---@param size integer its size in bytes
---@return mahua.Chain chain a chain of one File element
function M.file(id, name, size)
  return one({
    type = "File",
    id = need_str("file", "id", id),
    name = need_str("file", "name", name),
    size = need_int("file", "size", size),
  })
end

--- A message written in mirai code, e.g. "[mirai:at:123] hi".
---@param code string the mirai code
---@return mahua.Chain chain a chain of one MiraiCode element
function M.miraiCode(code)
  return one({ type = "MiraiCode", code = need_str("miraiCode", "code", code) })
end

--- A short video (friends and groups only).
---@param video {videoId: string, fileMd5: string, fileSize: integer, fileFormat: string, filename: string, videoUrl?: string, thumbnailUrl?: string} the video; with both URLs the server downloads and uploads it
---@return mahua.Chain chain a chain of one ShortVideo element
function M.shortVideo(video)
  need_table("shortVideo", "video", video)
  return one({
    type = "ShortVideo",
    videoId = need_str("shortVideo", "videoId", video.videoId),
    fileMd5 = need_str("shortVideo", "fileMd5", video.fileMd5),
    fileSize = need_int("shortVideo", "fileSize", video.fileSize),
    fileFormat = need_str("shortVideo", "fileFormat", video.fileFormat),
    filename = need_str("shortVideo", "filename", video.filename),
    videoUrl = opt_str("shortVideo", "videoUrl", video.videoUrl),
    thumbnailUrl = opt_str("shortVideo", "thumbnailUrl", video.thumbnailUrl),
  })
end

--- The text of all Plain elements of a chain, joined.
---@param chain table|string a chain, an element, a string or a message event
---@return string text the text
function M.text(chain)
  local list = elements("text", chain)
  local parts = {}
  for i = 1, #list do
    local e = list[i]
    if type(e) == "table" and e.type == "Plain" and type(e.text) == "string" then
      parts[#parts + 1] = e.text
    end
  end
  return concat(parts)
end

-- The first element of type `ty` in a list of elements.
local function first_of(list, ty)
  for i = 1, #list do
    local e = list[i]
    if is_element(e) and e.type == ty then return e end
  end
  return nil
end

--- The first element of a type in a chain.
---@param chain table a chain, an element or a message event
---@param type string the element type, e.g. "Image"
---@return table? element the element, or nil when there is none
---@diagnostic disable-next-line: redefined-local
function M.find(chain, type)
  need_str("find", "type", type)
  return first_of(elements("find", chain), type)
end

--- Whether a chain has an element of a type.
---@param chain table a chain, an element or a message event
---@param type string the element type, e.g. "Image"
---@return boolean found true if there is one
---@diagnostic disable-next-line: redefined-local
function M.has(chain, type)
  need_str("has", "type", type)
  return first_of(elements("has", chain), type) ~= nil
end

--- Whether a chain mentions someone: an At of them, or AtAll.
---@param chain table a chain, an element or a message event
---@param qq integer the QQ number (e.g. the bot's own)
---@return boolean mentioned true if they are mentioned
function M.mentions(chain, qq)
  qq = need_int("mentions", "qq", qq)
  local list = elements("mentions", chain)
  for i = 1, #list do
    local e = list[i]
    if is_element(e) and (e.type == "AtAll" or (e.type == "At" and e.target == qq)) then
      return true
    end
  end
  return false
end

-- How to answer each kind of message packet: a send function and its leading arguments.
local ROUTES = {
  FriendMessage = function(ev) return mirai.sendFriendMessage, ev.sender.id end,
  StrangerMessage = function(ev) return mirai.sendFriendMessage, ev.sender.id end,
  GroupMessage = function(ev) return mirai.sendGroupMessage, ev.sender.group.id end,
  TempMessage = function(ev) return mirai.sendTempMessage, ev.sender.id, ev.sender.group.id end,
  OtherClientMessage = function(ev) return mirai.sendOtherClientMessage, ev.sender.id end,
  FriendSyncMessage = function(ev) return mirai.sendFriendMessage, ev.subject.id end,
  StrangerSyncMessage = function(ev) return mirai.sendFriendMessage, ev.subject.id end,
  GroupSyncMessage = function(ev) return mirai.sendGroupMessage, ev.subject.id end,
  TempSyncMessage = function(ev) return mirai.sendTempMessage, ev.subject.id, ev.subject.group.id end,
}

local function send(fn, ev, chain, quote)
  local route = type(ev) == "table" and ROUTES[ev.type] or nil
  if not route then
    local what = type(ev) == "table" and ev.type and ("a " .. tostring(ev.type)) or describe(ev)
    error(("msg.%s: ev must be a message event, got %s"):format(fn, what), 3)
  end
  local f, a, b = route(ev)
  if b ~= nil then
    if quote ~= nil then return f(a, b, chain, quote) end
    return f(a, b, chain)
  end
  if quote ~= nil then return f(a, chain, quote) end
  return f(a, chain)
end

--- Answer a message in the same conversation (friend, group, temp session, …); same as ev:reply(chain).
---@param ev table the message event
---@param chain table|string what to send: a string, an element or a chain
---@return integer messageId the id of the message sent
function M.reply(ev, chain)
  local id = send("reply", ev, chain)
  return id
end

--- Answer a message in the same conversation, quoting it; same as ev:quote(chain).
---@param ev table the message event
---@param chain table|string what to send: a string, an element or a chain
---@return integer messageId the id of the message sent
function M.quote(ev, chain)
  local source = type(ev) == "table" and type(ev.messageChain) == "table" and M.find(ev.messageChain, "Source")
  if type(ev) == "table" and ROUTES[ev.type] and not source then
    error("msg.quote: ev has no Source element to quote", 2)
  end
  local id = send("quote", ev, chain, source and source.id)
  return id
end

local Event = { __index = { reply = M.reply, quote = M.quote } }

-- mahua gives every message event a script receives the `Event` metatable (ev:reply,
-- ev:quote) and its non-empty messageChain the `Chain` one (`..`). Neither changes what
-- json.encode makes of them: both are encoded by their contents.
M._Event = Event
M._Chain = Chain

return M
