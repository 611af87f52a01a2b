-- Issue 15: notices with receipts (通知公告, app/notices.rs). A notice is addressed to the
-- households under an area (optionally those with a member of some registry tags, or a list) and
-- to staff roles; `notice_receipts` holds one row per addressed household (how it can be reached,
-- read, acknowledged, its answer), written by one `INSERT … SELECT` when the notice is published;
-- `notice_people` one row per account told (a resident of an addressed household, or staff of an
-- addressed role), with when that person read and acknowledged it. A
-- resident's account may name the registry person it belongs to (`users.person_id`): that is how
-- a household is reached in the app.
ALTER TABLE users ADD COLUMN person_id {uuid} NULL;
CREATE INDEX ix_users_person ON users(person_id);
CREATE TABLE notices (
    id {uuid} PRIMARY KEY,
    area_id {uuid} NOT NULL REFERENCES areas(id),
    title VARCHAR(100) NOT NULL,
    body TEXT NOT NULL,
    households BOOLEAN NOT NULL,
    tags VARCHAR(300) NOT NULL,
    roles VARCHAR(300) NOT NULL,
    listed BOOLEAN NOT NULL,
    requires_ack BOOLEAN NOT NULL,
    form TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    urgent BOOLEAN NOT NULL,
    status VARCHAR(16) NOT NULL,
    withdrawn_reason VARCHAR(500) NULL,
    reminders INTEGER NOT NULL DEFAULT 0,
    last_reminded_at BIGINT NULL,
    author_id {uuid} NULL REFERENCES users(id),
    author_name VARCHAR(100) NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_notices_area ON notices(area_id, created_at);
-- No foreign key to notices: a notice to a million households would check it a million times
-- (4 s of 13 on PostgreSQL); receipts are written only by publishing, after the notice.
CREATE TABLE notice_receipts (
    notice_id {uuid} NOT NULL,
    household_id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    grid_id {uuid} NOT NULL,
    -- The household's building or grid: what scope checks use.
    area_id {uuid} NOT NULL,
    -- app | sms | none: how the household could be reached when the notice was published.
    reach VARCHAR(8) NOT NULL,
    read_at BIGINT NULL,
    acked_at BIGINT NULL,
    -- app | visit
    acked_via VARCHAR(8) NULL,
    acked_by VARCHAR(100) NULL,
    answer TEXT NULL,
    reminded_at BIGINT NULL,
    PRIMARY KEY (notice_id, household_id)
);
CREATE INDEX ix_receipts_grid ON notice_receipts(notice_id, grid_id);
CREATE TABLE notice_people (
    notice_id {uuid} NOT NULL REFERENCES notices(id),
    user_id {uuid} NOT NULL REFERENCES users(id),
    -- The household through which a resident is told; NULL for staff told by role.
    household_id {uuid} NULL,
    read_at BIGINT NULL,
    acked_at BIGINT NULL,
    PRIMARY KEY (notice_id, user_id)
);
CREATE INDEX ix_notice_people_user ON notice_people(user_id, notice_id);
