-- A registry person who serves; every party member has one. The community is the one served.
CREATE TABLE volunteers (
    id {uuid} PRIMARY KEY,
    person_id {uuid} NOT NULL,
    street_id {uuid} NOT NULL,
    community_id {uuid} NOT NULL REFERENCES areas(id),
    user_id {uuid} NULL REFERENCES users(id),
    skills VARCHAR(200) NOT NULL DEFAULT '',
    willing BOOLEAN NOT NULL DEFAULT TRUE,
    party_member BOOLEAN NOT NULL DEFAULT FALSE,
    own_week_minutes INTEGER NULL,
    own_consecutive_days INTEGER NULL,
    own_rest_minutes INTEGER NULL,
    -- Kept in the transaction of every service_hours row: stars are one row read.
    verified_minutes BIGINT NOT NULL DEFAULT 0,
    last_asked_at BIGINT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_volunteers_person ON volunteers(person_id);
CREATE UNIQUE INDEX ux_volunteers_user ON volunteers(user_id);
CREATE INDEX ix_volunteers_community ON volunteers(community_id, created_at);

CREATE TABLE party_members (
    id {uuid} PRIMARY KEY,
    volunteer_id {uuid} NOT NULL REFERENCES volunteers(id),
    org_id {uuid} NOT NULL REFERENCES party_orgs(id),
    community_id {uuid} NOT NULL REFERENCES areas(id),
    kind VARCHAR(16) NOT NULL,
    work_unit_org_id {uuid} NULL REFERENCES party_orgs(id),
    joined_on VARCHAR(10) NOT NULL,
    status VARCHAR(16) NOT NULL,
    exempt_reason VARCHAR(100) NULL,
    -- The latest report-in, kept with each report_ins row: the overdue list is one index range.
    last_reported_on VARCHAR(10) NULL,
    report_valid_until VARCHAR(10) NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_party_members_volunteer ON party_members(volunteer_id);
CREATE INDEX ix_party_members_community ON party_members(community_id, report_valid_until);
CREATE INDEX ix_party_members_unit ON party_members(work_unit_org_id);
CREATE INDEX ix_party_members_org ON party_members(org_id);

CREATE TABLE report_ins (
    id {uuid} PRIMARY KEY,
    member_id {uuid} NULL REFERENCES party_members(id),
    unit_org_id {uuid} NULL REFERENCES party_orgs(id),
    community_id {uuid} NOT NULL REFERENCES areas(id),
    reported_on VARCHAR(10) NOT NULL,
    valid_until VARCHAR(10) NOT NULL,
    commitment TEXT NOT NULL,
    file_id {uuid} NULL REFERENCES files(id),
    created_by {uuid} NULL,
    created_by_name VARCHAR(100) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_report_ins_member ON report_ins(member_id, reported_on);
CREATE INDEX ix_report_ins_unit ON report_ins(unit_org_id, reported_on);
CREATE INDEX ix_report_ins_community ON report_ins(community_id, reported_on);

-- One branch to one community point (结对共建).
CREATE TABLE branch_pairings (
    org_id {uuid} PRIMARY KEY REFERENCES party_orgs(id),
    community_id {uuid} NOT NULL REFERENCES areas(id),
    since VARCHAR(10) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_branch_pairings_community ON branch_pairings(community_id);

CREATE TABLE activities (
    id {uuid} PRIMARY KEY,
    area_id {uuid} NOT NULL REFERENCES areas(id),
    kind VARCHAR(24) NOT NULL,
    title VARCHAR(100) NOT NULL,
    place VARCHAR(200) NOT NULL,
    description TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    capacity INTEGER NOT NULL,
    skills VARCHAR(200) NOT NULL DEFAULT '',
    risky BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(16) NOT NULL,
    signed_up INTEGER NOT NULL DEFAULT 0,
    checked_in INTEGER NOT NULL DEFAULT 0,
    checked_out INTEGER NOT NULL DEFAULT 0,
    confirmed_at BIGINT NULL,
    organiser_id {uuid} NULL,
    organiser_name VARCHAR(100) NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_activities_area ON activities(area_id, starts_at);
CREATE INDEX ix_activities_starts ON activities(starts_at);

CREATE TABLE activity_signups (
    activity_id {uuid} NOT NULL REFERENCES activities(id),
    volunteer_id {uuid} NOT NULL REFERENCES volunteers(id),
    via VARCHAR(16) NOT NULL,
    status VARCHAR(16) NOT NULL,
    -- The activity's time, copied: a volunteer's shifts are one index range (burnout limits).
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    insurer VARCHAR(100) NULL,
    policy_no VARCHAR(64) NULL,
    checkin_at BIGINT NULL,
    checkout_at BIGINT NULL,
    minutes INTEGER NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (activity_id, volunteer_id)
);
CREATE INDEX ix_signups_volunteer ON activity_signups(volunteer_id, starts_at);

-- Verified service time. Never updated: a correction is another row (minutes may be negative).
CREATE TABLE service_hours (
    id {uuid} PRIMARY KEY,
    volunteer_id {uuid} NOT NULL REFERENCES volunteers(id),
    activity_id {uuid} NULL REFERENCES activities(id),
    day VARCHAR(10) NOT NULL,
    minutes INTEGER NOT NULL,
    kind VARCHAR(16) NOT NULL,
    reason VARCHAR(200) NULL,
    created_by {uuid} NULL,
    created_by_name VARCHAR(100) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_service_hours_volunteer ON service_hours(volunteer_id, day);

-- Rules per area; the nearest area up the tree wins, code defaults otherwise.
CREATE TABLE point_rules (
    area_id {uuid} NOT NULL REFERENCES areas(id),
    event VARCHAR(32) NOT NULL,
    points BIGINT NOT NULL,
    cap BIGINT NULL,
    cap_period VARCHAR(8) NULL,
    updated_by_name VARCHAR(100) NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (area_id, event)
);

-- The balance is kept here, in the transaction of each posting, with balance + amount >= 0 in the
-- UPDATE's WHERE: a balance read is one row, and no debit takes it below zero.
CREATE TABLE point_accounts (
    id {uuid} PRIMARY KEY,
    kind VARCHAR(8) NOT NULL,
    volunteer_id {uuid} NULL REFERENCES volunteers(id),
    area_id {uuid} NOT NULL REFERENCES areas(id),
    name VARCHAR(100) NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_point_accounts_volunteer ON point_accounts(volunteer_id);
CREATE INDEX ix_point_accounts_area ON point_accounts(area_id, kind);

-- Append-only: no code path updates or deletes a posting. A reversal names the posting it
-- cancels; the unique (partial) index lets each be reversed once. Postings are read by account
-- (the ledger, the year's sum of a member): one index, so a big confirmation writes fast.
CREATE TABLE point_postings (
    id {uuid} PRIMARY KEY,
    account_id {uuid} NOT NULL REFERENCES point_accounts(id),
    amount BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    event VARCHAR(32) NULL,
    rule_area_id {uuid} NULL,
    source_kind VARCHAR(16) NOT NULL,
    source_id VARCHAR(64) NULL,
    reverses_id {uuid} NULL,
    counterpart_id {uuid} NULL,
    note VARCHAR(200) NULL,
    actor_id {uuid} NULL,
    actor_name VARCHAR(100) NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX ix_point_postings_account ON point_postings(account_id, at);
CREATE UNIQUE INDEX ux_point_postings_reverses ON point_postings(reverses_id) WHERE reverses_id IS NOT NULL;

-- Points already earned under a capped rule in a period (day 2026-12-01, month 2026-12, year 2026).
CREATE TABLE point_usage (
    account_id {uuid} NOT NULL,
    event VARCHAR(32) NOT NULL,
    period VARCHAR(10) NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (account_id, event, period)
) {without_rowid};

CREATE TABLE catalog_items (
    id {uuid} PRIMARY KEY,
    community_id {uuid} NOT NULL REFERENCES areas(id),
    name VARCHAR(100) NOT NULL,
    description VARCHAR(500) NOT NULL,
    price BIGINT NOT NULL,
    stock BIGINT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_catalog_items_community ON catalog_items(community_id, name);

CREATE TABLE redemptions (
    id {uuid} PRIMARY KEY,
    item_id {uuid} NOT NULL REFERENCES catalog_items(id),
    account_id {uuid} NOT NULL REFERENCES point_accounts(id),
    community_id {uuid} NOT NULL,
    qty INTEGER NOT NULL,
    points BIGINT NOT NULL,
    posting_id {uuid} NOT NULL,
    actor_name VARCHAR(100) NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX ix_redemptions_community ON redemptions(community_id, at);
CREATE INDEX ix_redemptions_account ON redemptions(account_id, at);

-- 民主评议 scores and the annual ratings computed from them and the year's points.
CREATE TABLE party_reviews (
    member_id {uuid} NOT NULL REFERENCES party_members(id),
    year INTEGER NOT NULL,
    score INTEGER NOT NULL,
    updated_by_name VARCHAR(100) NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, year)
);
CREATE TABLE party_ratings (
    member_id {uuid} NOT NULL,
    year INTEGER NOT NULL,
    community_id {uuid} NOT NULL,
    points BIGINT NOT NULL,
    review_score INTEGER NULL,
    reported_in BOOLEAN NOT NULL,
    exempt BOOLEAN NOT NULL,
    score_x10 INTEGER NOT NULL,
    grade VARCHAR(16) NOT NULL,
    capped BOOLEAN NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, year)
);
CREATE INDEX ix_party_ratings_community ON party_ratings(community_id, year, grade);

CREATE TABLE commendations (
    id {uuid} PRIMARY KEY,
    volunteer_id {uuid} NOT NULL REFERENCES volunteers(id),
    community_id {uuid} NOT NULL,
    title VARCHAR(100) NOT NULL,
    level VARCHAR(32) NOT NULL,
    star_level SMALLINT NULL,
    year INTEGER NULL,
    awarded_on VARCHAR(10) NOT NULL,
    reason VARCHAR(500) NOT NULL,
    created_by_name VARCHAR(100) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_commendations_volunteer ON commendations(volunteer_id);
CREATE INDEX ix_commendations_community ON commendations(community_id, awarded_on);

-- A work unit's contact: a user or an API token, for one unit party organisation.
CREATE TABLE unit_contacts (
    id {uuid} PRIMARY KEY,
    org_id {uuid} NOT NULL REFERENCES party_orgs(id),
    user_id {uuid} NULL REFERENCES users(id),
    token_id {uuid} NULL REFERENCES api_tokens(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_unit_contacts_user ON unit_contacts(user_id);
CREATE UNIQUE INDEX ux_unit_contacts_token ON unit_contacts(token_id);

-- 志愿服务记录证明 (民政部令第67号): a snapshot at issue, checkable by its number.
CREATE TABLE certificates (
    id {uuid} PRIMARY KEY,
    number VARCHAR(32) NOT NULL,
    volunteer_id {uuid} NOT NULL REFERENCES volunteers(id),
    community_id {uuid} NOT NULL,
    name VARCHAR(64) NOT NULL,
    id_masked VARCHAR(32) NOT NULL,
    minutes BIGINT NOT NULL,
    content TEXT NOT NULL,
    period_from VARCHAR(10) NULL,
    period_to VARCHAR(10) NULL,
    issuer VARCHAR(100) NOT NULL,
    issued_on VARCHAR(10) NOT NULL,
    created_by_name VARCHAR(100) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_certificates_number ON certificates(number);
CREATE INDEX ix_certificates_community ON certificates(community_id, created_at);
