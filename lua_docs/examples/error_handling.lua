-- Failures as a script sees them. Invalid arguments, refused messages and unknown names all
-- raise Lua errors whose message starts with the tool name, so pcall catches them.
local cs = app.integrations.clicksend

-- 1. Invalid arguments: nothing is sent, and the message names every failing field.
local ok, err = pcall(cs.sms, {
  messages = {
    { to = "+61411111111", body = "fine" },
    { to = "+61422222222" },
  },
})
print("invalid:", ok, err)

-- 2. Some messages refused: the call succeeds and lists them in `refused`. Here the same text
-- goes twice to one number (0491 570 156 is in a range Australia reserves for fiction), and
-- ClickSend throttles the copy.
local reminder = { to = "+61491570156", body = "Reminder: your table is booked for 7pm" }
local mixed = cs.sms({ messages = { reminder, reminder } })
for _, item in ipairs(mixed.refused) do
  print("refused:", item.index, item.to, item.status, item.reason)
end

-- 3. Every message refused: nothing was sent, so the call raises.
local all_ok, all_err = pcall(cs.sms, { messages = { reminder } })
print("all refused:", all_ok, all_err)

-- 4. A number that cannot exist is caught before anything is sent.
local bad_ok, bad_err = pcall(cs.sms, { messages = { { to = "12345", body = "no" } } })
print("bad number:", bad_ok, bad_err)

-- 5. A misspelt function name suggests the close ones.
local fn_ok, fn_err = pcall(function()
  return cs.send_smss({})
end)
print("unknown function:", fn_ok, fn_err)

-- 6. The error text can be inspected like any string.
if not ok and err:find("messages%[2%]%.body") then
  print("the second message needs a body")
end

return { invalid = ok, refused = #mixed.refused, all_refused = all_ok, unknown = fn_ok }
