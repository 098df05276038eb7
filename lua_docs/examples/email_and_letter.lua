-- Send a transactional email from the account's verified sender address, then post a
-- letter to ClickSend's test postal code (nothing is printed or charged for 11111).
local cs = app.integrations.clicksend

local mail = cs.email({
  to = { email = "test1@test.com", name = "Test Recipient" },
  subject = "Your receipt",
  body = "<p>Thank you for your order.</p>",
})
print("email:", mail.response_code, mail.data.subject, mail.data.to[1].email)

-- An address that is not a verified sender of the account is rejected, listing the good ones.
local ok, err = pcall(cs.email, {
  to = "test2@test.com",
  subject = "Hello",
  body = "<p>Hi</p>",
  from_email_address = "nobody@example.com",
})
print("unknown sender:", ok, err)

local letter = cs.post_letter({
  file_url = "https://example.com/letter.pdf",
  recipients = {
    {
      name = "Ada Example",
      address = "1 Test Street",
      city = "Perth",
      state = "WA",
      postal_code = "11111",
      country = "AU",
    },
  },
})
local recipient = letter.data.recipients[1]
print("letter:", letter.response_code, recipient.address_name, recipient.address_postal_code, recipient.status)

return { email = mail.response_code, letter = letter.response_code, unknown_sender_ok = ok }
