-- Two accounts side by side: compare balances, then send from the "work" account.
-- Configure the second account as [accounts.work] in the config file; in the sandbox any
-- username and key open a simulated account:
--   [accounts.work]
--   username = "work-sandbox"
--   api_key = "work-sandbox-key"
local cs = app.integrations.clicksend

local default = cs.default.get_account_balance({})
print("default account:", default.data.username, default.balance, default.currency)

local ok, work = pcall(cs.work.get_account_balance, {})
if not ok then
  print("no work account: " .. work)
  return { accounts = 1 }
end
print("work account:", work.data.username, work.balance, work.currency)

local sent = cs.work.sms({
  messages = { { to = "+61433333333", body = "Sent from the work account" } },
})
print("work sms:", sent.response_code, sent.data.messages[1].message_id ~= nil)

-- The tool name works under an account as well as the short name.
local history = cs.work.clicksend_get_sms_history({ limit = 15 })
print("work history rows:", history.data.total)

return { accounts = 2, same_user = default.data.username == work.data.username }
