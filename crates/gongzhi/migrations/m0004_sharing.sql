-- The sharing catalogue: which role (or user) may read which fields of which residents.
CREATE TABLE sharing_rules (
    id {uuid} PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    role VARCHAR(32) NOT NULL,
    user_id {uuid} NULL REFERENCES users(id),
    area_id {uuid} NOT NULL REFERENCES areas(id),
    tag VARCHAR(32) NULL,
    fields TEXT NOT NULL,
    purpose VARCHAR(200) NOT NULL,
    created_by {uuid} NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);
CREATE INDEX ix_sharing_role ON sharing_rules(role);
