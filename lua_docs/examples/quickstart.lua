-- Quickstart: send an SMS and a voice call to ClickSend's test numbers, price a batch,
-- then read the balance and the SMS history. Run it offline with:
--   kosmo-clicksend run --sandbox lua_docs/examples/quickstart.lua
local cs = app.integrations.clicksend

local sms = cs.sms({
  messages = {
    { to = "+61411111111", body = "Hello from kosmo-clicksend", custom_string = "quickstart-sms" },
  },
})
print("sms:", sms.response_code, "queued", sms.data.queued_count, "refused", #sms.refused)

local call = cs.voice({
  messages = {
    { to = "+61422222222", body = "Your code is 1, 2, 3, 4.", lang = "en-au" },
  },
})
print("voice:", call.response_code, "queued", call.data.queued_count)

local batch = {}
for i = 1, 3 do
  batch[#batch + 1] = { to = "+14055555555", body = "Batch message " .. i }
end
local price = cs.get_sms_price({ messages = batch })
print("price of 3 messages:", price.data.total_price, price.data._currency.currency_name_short)

local account = cs.get_account_balance({})
print("balance:", account.balance, account.currency)

local history = cs.get_sms_history({ limit = 15 })
print("sms in history:", history.data.total)
local latest = history.data.data[#history.data.data]
if latest then
  print("last row on page 1:", latest.to, latest.status, latest.body)
end

return { balance = account.balance, currency = account.currency, history_total = history.data.total }
