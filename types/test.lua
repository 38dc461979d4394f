---@meta test
-- `require("test")` in a test file that `mahua test` runs: the module `mahua.test`.
-- Kept by hand beside src/testing/api.lua, which defines these methods.

---A message the bot sent during a test.
---@class mahua.test.Sent
---@field command string the command that sent it, e.g. `sendGroupMessage`
---@field target integer the friend, group or member it went to
---@field group? integer for a temp message, the group the member was reached through
---@field chain table[] the message chain as sent
---@field text string its plain text
---@field messageId integer its message id

---A call a script made to the server.
---@class mahua.test.Call
---@field command string
---@field subCommand? string
---@field content table

---A friend of the bot, in a test.
---@class mahua.test.Friend
---@field qq integer
local Friend = {}
---Say something to the bot; returns the message id.
---@param message string|table text, an element or a chain
---@return integer
function Friend:say(message) end

---A group member, in a test.
---@class mahua.test.Member
---@field group integer
---@field qq integer
local Member = {}
---Say something in the group; returns the message id.
---@param message string|table text, an element or a chain
---@return integer
function Member:say(message) end

---A group, in a test.
---@class mahua.test.Group
---@field id integer
local Group = {}
---A member of the group.
---@param qq integer
---@return mahua.test.Member
function Group:member(qq) end
---Someone joins the group.
---@param qq integer
function Group:join(qq) end

---What a test drives its bot through.
---@class mahua.test.T
local T = {}
---Load these scripts from the scripts folder (once per test).
---@param ... string file names, e.g. "echo.lua"
function T:load(...) end
---@param qq integer
---@return mahua.test.Friend
function T:friend(qq) end
---@param id integer
---@return mahua.test.Group
function T:group(id) end
---Push any event table; returns the message id of a message or the eventId of a request.
---@param event table
---@return integer?
function T:push(event) end
---Someone nudges the bot, in a friend chat or in `group`.
---@param qq integer
---@param group? integer
function T:nudge(qq, group) end
---Someone asks to be the bot's friend; returns the event id.
---@param qq integer
---@param message? string
---@return integer
function T:friend_request(qq, message) end
---Someone asks to join a group; returns the event id.
---@param group integer
---@param qq integer
---@param message? string
---@return integer
function T:join_request(group, qq, message) end
---Every message the bot sent so far.
---@return mahua.test.Sent[]
function T:sent() end
---Every call the scripts made, of `command` or of all.
---@param command? string
---@return mahua.test.Call[]
function T:calls(command) end
---Make the server answer `command` with a value, a function of the call's content, or `test.fail(code, msg)`.
---@param command string
---@param answer any|fun(content: table): any
function T:answer(command, answer) end
---Answer the scripts' http requests to URLs starting with `url`.
---@param url string
---@param response {status?: integer, body?: string|table}
function T:answer_http(url, response) end
---Move the virtual clock forward, running everything due; returns the new `os.time()`.
---@param seconds number
---@return integer
function T:advance(seconds) end
---The virtual `os.time()`.
---@return integer
function T:now() end
---Wait for the next message whose text matches the Lua pattern; fails the test otherwise.
---@param pattern string
---@param options? {within?: number} seconds of virtual time, default 10
---@return mahua.test.Sent
function T:expect_reply(pattern, options) end
---Fail the test if the bot sends anything within the time.
---@param options? {within?: number} seconds of virtual time, default 10
function T:expect_no_reply(options) end

---Declare tests: `test("name", function(t) … end)`.
---@class mahua.test
---@overload fun(name: string, fn: fun(t: mahua.test.T))
local test = {}

---A failure answer for `t:answer`.
---@param code integer the status code
---@param msg? string
---@return table
function test.fail(code, msg) end

return test
