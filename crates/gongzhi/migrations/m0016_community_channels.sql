-- Issue 15: each community's channels (公众号, 微信群, 企业微信群, 视频号, hotlines) with owner,
-- audience, members and activity, so the street can find the dead ones (僵尸号/群) and retire or
-- merge them with a recorded decision.
CREATE TABLE community_channels (
    id {uuid} PRIMARY KEY,
    street_id {uuid} NOT NULL REFERENCES areas(id),
    community_id {uuid} NOT NULL REFERENCES areas(id),
    kind VARCHAR(16) NOT NULL,
    name VARCHAR(100) NOT NULL,
    audience VARCHAR(100) NOT NULL,
    purpose VARCHAR(500) NOT NULL,
    owner_name VARCHAR(50) NOT NULL,
    members INTEGER NULL,
    posts_last_month INTEGER NULL,
    last_active_on VARCHAR(10) NULL,
    status VARCHAR(16) NOT NULL,
    merged_into {uuid} NULL REFERENCES community_channels(id),
    decision VARCHAR(500) NULL,
    decided_by VARCHAR(100) NULL,
    decided_at BIGINT NULL,
    version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_community_channels_area ON community_channels(community_id, status, kind);
