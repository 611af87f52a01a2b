-- Issue 15: the channels that reach a person by their own address. A user's e-mail address is
-- personal data: encrypted like the mobile (`email_enc`), shown masked (`email_masked`). The
-- WeCom account id (`wecom_userid`) names a staff member in the office's WeCom directory.
-- A notice reaches a household without an account by SMS to a member's mobile on file: such a
-- delivery has no user but the household and the mobile (its ciphertext, copied from the
-- registry; `phone_enc`).
ALTER TABLE users ADD COLUMN email_enc TEXT NULL;
ALTER TABLE users ADD COLUMN email_masked VARCHAR(120) NULL;
ALTER TABLE users ADD COLUMN wecom_userid VARCHAR(64) NULL;
ALTER TABLE message_deliveries ADD COLUMN household_id {uuid} NULL;
ALTER TABLE message_deliveries ADD COLUMN phone_enc TEXT NULL;
