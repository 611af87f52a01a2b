-- Issue 15: the message hub (decision 0016). A message is written in the same transaction as the
-- event that causes it (the outbox), once per `dedup_key`; each recipient and channel gets a
-- delivery row whose state moves queued → sent → delivered → read, or failed with its reason.
-- Templates ship in the code; `message_templates` holds an office's own wording.
CREATE TABLE messages (
    id {uuid} PRIMARY KEY,
    template_key VARCHAR(64) NOT NULL,
    dedup_key VARCHAR(200) NOT NULL,
    urgent BOOLEAN NOT NULL,
    area_id {uuid} NULL,
    link VARCHAR(300) NULL,
    vars TEXT NOT NULL,
    fanned_out BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_messages_dedup ON messages(dedup_key);
CREATE INDEX ix_messages_fan_out ON messages(fanned_out, created_at);
CREATE TABLE message_deliveries (
    id {uuid} PRIMARY KEY,
    message_id {uuid} NOT NULL REFERENCES messages(id),
    -- NULL for a group channel (a WeCom group robot): one delivery per message.
    user_id {uuid} NULL REFERENCES users(id),
    channel VARCHAR(16) NOT NULL,
    state VARCHAR(16) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NULL,
    last_error TEXT NULL,
    sent_at BIGINT NULL,
    read_at BIGINT NULL,
    provider_ref VARCHAR(100) NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_deliveries_provider ON message_deliveries(provider_ref);
CREATE UNIQUE INDEX ux_deliveries_once ON message_deliveries(message_id, user_id, channel);
CREATE INDEX ix_deliveries_inbox ON message_deliveries(user_id, channel, created_at);
CREATE INDEX ix_deliveries_queue ON message_deliveries(state, next_attempt_at);
CREATE TABLE message_templates (
    template_key VARCHAR(64) PRIMARY KEY,
    title_zh VARCHAR(200) NOT NULL,
    body_zh TEXT NOT NULL,
    title_en VARCHAR(200) NOT NULL,
    body_en TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by VARCHAR(100) NOT NULL
);
CREATE TABLE message_optouts (
    user_id {uuid} NOT NULL REFERENCES users(id),
    channel VARCHAR(16) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel)
);
