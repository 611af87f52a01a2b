-- Issue 15: resident self-registration (app/signup.rs). One-time codes by SMS, kept as a keyed
-- hash with the phone's blind index (never the number); claims of a registry record by name and
-- ID number, confirmed by a worker of the matched person's area (`person_id`, `area_id` NULL
-- when nothing matched: nobody sees those). Users get the phone's blind index, so one number
-- makes one account.
ALTER TABLE users ADD COLUMN phone_bidx VARCHAR(32) NULL;
CREATE INDEX ix_users_phone_bidx ON users(phone_bidx);
CREATE TABLE signup_codes (
    id {uuid} PRIMARY KEY,
    phone_bidx VARCHAR(32) NOT NULL,
    code_hash VARCHAR(64) NOT NULL,
    client_addr VARCHAR(64) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at BIGINT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_signup_codes_phone ON signup_codes(phone_bidx, created_at);
CREATE INDEX ix_signup_codes_addr ON signup_codes(client_addr, created_at);
CREATE TABLE resident_claims (
    id {uuid} PRIMARY KEY,
    user_id {uuid} NOT NULL REFERENCES users(id),
    person_id {uuid} NULL,
    community_id {uuid} NULL,
    area_id {uuid} NULL,
    name VARCHAR(64) NOT NULL,
    -- pending | confirmed | rejected | unmatched
    status VARCHAR(16) NOT NULL,
    reason VARCHAR(500) NULL,
    decided_by VARCHAR(100) NULL,
    decided_at BIGINT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_claims_area ON resident_claims(area_id, status, created_at);
CREATE INDEX ix_claims_user ON resident_claims(user_id, created_at);
