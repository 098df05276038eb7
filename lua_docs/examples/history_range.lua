-- Send a few messages, then read them back from the SMS history for today's date range.
-- Dates may be YYYY-MM-DD, ISO 8601 date-times or Unix seconds; a date-only date_to
-- covers the whole day.
local cs = app.integrations.clicksend
local today = os.date("!%Y-%m-%d")

local tag = "history-" .. os.time()
for i = 1, 3 do
  cs.sms({ messages = { { to = "+61444444444", body = "History demo " .. i, custom_string = tag } } })
end

local page = cs.get_sms_history({ date_from = today, date_to = today, limit = 15 })
print("today:", today, "rows:", page.data.total, "pages:", page.data.last_page)

local mine = 0
for _, row in ipairs(page.data.data) do
  if row.custom_string == tag then
    mine = mine + 1
  end
end
print("rows from this run on page 1:", mine)

-- A range that ends before it starts is rejected before anything is sent.
local ok, err = pcall(cs.get_sms_history, { date_from = "2026-07-02", date_to = "2026-07-01" })
print("reversed range:", ok, err)

return { today = today, total = page.data.total, reversed_range_ok = ok }
