-- The methods of `t`, the object each test gets. Each one calls a raw function that
-- answers (ok, result or message) and raises a failure at the test's own line (no tail
-- calls here: they would drop the frame that `error`'s level counts on).
local raw = ...

local function check(ok, r)
  if not ok then error(r, 3) end
  return r
end

local T, Friend, Group, Member = {}, {}, {}, {}
T.__index, Friend.__index, Group.__index, Member.__index = T, Friend, Group, Member

function T:load(...) local r = check(raw.load(...)) return r end
function T:push(event) local r = check(raw.push(event)) return r end
function T:sent() local r = check(raw.sent()) return r end
function T:calls(command) local r = check(raw.calls(command)) return r end
function T:answer(command, value) local r = check(raw.answer(command, value)) return r end
function T:advance(seconds) local r = check(raw.advance(seconds)) return r end
function T:nudge(qq, group) local r = check(raw.nudge(qq, group)) return r end
function T:friend_request(qq, message) local r = check(raw.friend_request(qq, message or "")) return r end
function T:join_request(group, qq, message) local r = check(raw.join_request(group, qq, message or "")) return r end
function T:answer_http(url, response) local r = check(raw.answer_http(url, response)) return r end
function T:now() local r = check(raw.now()) return r end

function T:expect_reply(pattern, options)
  local r = check(raw.expect(pattern, options and options.within, false))
  return r
end

function T:expect_no_reply(options)
  local r = check(raw.expect(nil, options and options.within, true))
  return r
end

function T:friend(qq) return setmetatable({qq = qq}, Friend) end
function Friend:say(message) local r = check(raw.friend_say(self.qq, message)) return r end

function T:group(id) return setmetatable({id = id}, Group) end
function Group:member(qq) return setmetatable({group = self.id, qq = qq}, Member) end
function Group:join(qq) local r = check(raw.member_join(self.id, qq)) return r end
function Member:say(message) local r = check(raw.member_say(self.group, self.qq, message)) return r end

return T
