//! Versioned schema migrations, one code path for both databases.
//!
//! The DDL is written once; the few type names that differ are placeholders replaced per
//! database: `{uuid}` (PostgreSQL `UUID`, SQLite `BLOB` — 16 bytes, as the driver binds it).
//! Every `*_at` column is BIGINT Unix milliseconds UTC (see docs/decisions/0002-time-as-ms.md).
//! Add a migration by appending a `(name, sql)` pair to [`MIGRATIONS`]; never edit an applied one.
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

pub const MIGRATIONS: &[(&str, &str)] = &[
    ("m0001_foundation", M0001_FOUNDATION),
    ("m0002_registry", M0002_REGISTRY),
    ("m0003_registry_indexes", M0003_REGISTRY_INDEXES),
    ("m0004_sharing", M0004_SHARING),
    ("m0005_search_grams", M0005_SEARCH_GRAMS),
    (
        "m0006_events_household_partial",
        M0006_EVENTS_HOUSEHOLD_PARTIAL,
    ),
    ("m0007_cases", M0007_CASES),
    ("m0008_service", M0008_SERVICE),
    ("m0009_audit_keyed", M0009_AUDIT_KEYED),
    ("m0010_household_file_cases", M0010_HOUSEHOLD_FILE_CASES),
    ("m0011_login_sessions", M0011_LOGIN_SESSIONS),
    ("m0012_provisional_deadlines", M0012_PROVISIONAL_DEADLINES),
    ("m0013_delegated_admin", M0013_DELEGATED_ADMIN),
    ("m0014_messages", M0014_MESSAGES),
    ("m0015_public_categories", M0015_PUBLIC_CATEGORIES),
    ("m0016_community_channels", M0016_COMMUNITY_CHANNELS),
    ("m0017_notices", M0017_NOTICES),
    ("m0018_self_registration", M0018_SELF_REGISTRATION),
    ("m0019_questions", M0019_QUESTIONS),
    ("m0020_reach", M0020_REACH),
];

/// Issue 15: the channels that reach a person by their own address. A user's e-mail address is
/// personal data: encrypted like the mobile (`email_enc`), shown masked (`email_masked`). The
/// WeCom account id (`wecom_userid`) names a staff member in the office's WeCom directory.
/// A notice reaches a household without an account by SMS to a member's mobile on file: such a
/// delivery has no user but the household and the mobile (its ciphertext, copied from the
/// registry; `phone_enc`).
const M0020_REACH: &str = r#"
ALTER TABLE users ADD COLUMN email_enc TEXT NULL;
ALTER TABLE users ADD COLUMN email_masked VARCHAR(120) NULL;
ALTER TABLE users ADD COLUMN wecom_userid VARCHAR(64) NULL;
ALTER TABLE message_deliveries ADD COLUMN household_id {uuid} NULL;
ALTER TABLE message_deliveries ADD COLUMN phone_enc TEXT NULL;
"#;

/// Issue 15 point 5: questions and public answers (回应关切, app/questions/). A resident's question
/// about a community, routed like a case (`unit_id`, `route_rule`, `duty_id`) with an answer
/// deadline; the answer, and the public wording (`public_title`, `public_body`) the answerer
/// chose when publishing it on the community's public page. A question asked again is linked to
/// the earlier one (`linked_to`), which counts how often it was asked (`asked_count`). The asker is
/// kept as their account and a masked name only. `question_helped` holds one row per anonymous
/// "this helped me" (a random cookie's hash, `voter`), so a tap counts once; `addr` (a hash of the
/// address) bounds how many one address may make in an hour. No foreign key from it to
/// `questions`: rows are written by strangers and only counted.
const M0019_QUESTIONS: &str = r#"
CREATE TABLE questions (
    id {uuid} PRIMARY KEY,
    no VARCHAR(24) NOT NULL,
    street_id {uuid} NOT NULL,
    community_id {uuid} NOT NULL REFERENCES areas(id),
    category_code VARCHAR(16) NULL,
    unit_id {uuid} NULL,
    duty_id {uuid} NULL,
    route_rule VARCHAR(16) NOT NULL,
    asker_id {uuid} NOT NULL REFERENCES users(id),
    asker_label VARCHAR(100) NOT NULL,
    title VARCHAR(100) NOT NULL,
    body TEXT NOT NULL,
    -- open | answered | linked | declined
    status VARCHAR(16) NOT NULL,
    due_at BIGINT NOT NULL,
    answer TEXT NULL,
    answered_by VARCHAR(100) NULL,
    answered_at BIGINT NULL,
    declined_reason VARCHAR(500) NULL,
    linked_to {uuid} NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    public_title VARCHAR(100) NULL,
    public_body TEXT NULL,
    published_at BIGINT NULL,
    asked_count INTEGER NOT NULL DEFAULT 1,
    helped INTEGER NOT NULL DEFAULT 0,
    overdue_told BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_questions_community ON questions(community_id, status, created_at);
CREATE INDEX ix_questions_street ON questions(street_id, status, created_at);
CREATE INDEX ix_questions_unit ON questions(unit_id, status);
CREATE INDEX ix_questions_asker ON questions(asker_id, created_at);
CREATE INDEX ix_questions_due ON questions(status, overdue_told, due_at);
CREATE INDEX ix_questions_public ON questions(community_id, public, published_at);
CREATE TABLE question_helped (
    question_id {uuid} NOT NULL,
    voter VARCHAR(64) NOT NULL,
    addr VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (question_id, voter)
);
CREATE INDEX ix_question_helped_addr ON question_helped(addr, created_at);
"#;

/// Issue 15: resident self-registration (app/signup.rs). One-time codes by SMS, kept as a keyed
/// hash with the phone's blind index (never the number); claims of a registry record by name and
/// ID number, confirmed by a worker of the matched person's area (`person_id`, `area_id` NULL
/// when nothing matched: nobody sees those). Users get the phone's blind index, so one number
/// makes one account.
const M0018_SELF_REGISTRATION: &str = r#"
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
"#;

/// Issue 15: notices with receipts (通知公告, app/notices.rs). A notice is addressed to the
/// households under an area (optionally those with a member of some registry tags, or a list) and
/// to staff roles; `notice_receipts` holds one row per addressed household (how it can be reached,
/// read, acknowledged, its answer), written by one `INSERT … SELECT` when the notice is published;
/// `notice_people` one row per account told (a resident of an addressed household, or staff of an
/// addressed role), with when that person read and acknowledged it. A
/// resident's account may name the registry person it belongs to (`users.person_id`): that is how
/// a household is reached in the app.
const M0017_NOTICES: &str = r#"
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
"#;

/// Issue 15: each community's channels (公众号, 微信群, 企业微信群, 视频号, hotlines) with owner,
/// audience, members and activity, so the street can find the dead ones (僵尸号/群) and retire or
/// merge them with a recorded decision.
const M0016_COMMUNITY_CHANNELS: &str = r#"
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
"#;

/// Issue 15: the case categories a street opens to the public (public space: lights, roads,
/// litter). Their requests are listed by Open311 without a key, with the place reduced to the
/// grid and no personal data. A top-level code opens its second-level categories.
const M0015_PUBLIC_CATEGORIES: &str = r#"
CREATE TABLE public_case_categories (
    street_id {uuid} NOT NULL REFERENCES areas(id),
    category_code VARCHAR(16) NOT NULL,
    created_at BIGINT NOT NULL,
    created_by VARCHAR(100) NOT NULL,
    PRIMARY KEY (street_id, category_code)
);
"#;

/// Issue 15: the message hub (decision 0016). A message is written in the same transaction as the
/// event that causes it (the outbox), once per `dedup_key`; each recipient and channel gets a
/// delivery row whose state moves queued → sent → delivered → read, or failed with its reason.
/// Templates ship in the code; `message_templates` holds an office's own wording.
const M0014_MESSAGES: &str = r#"
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
"#;

/// Issue 14: users belong to a home area (who may manage them: app/users.rs `Manager`) and carry
/// a phone, encrypted and masked like residents'. Existing users take the highest area they are
/// granted.
const M0013_DELEGATED_ADMIN: &str = r#"
ALTER TABLE users ADD COLUMN area_id {uuid} NULL REFERENCES areas(id);
ALTER TABLE users ADD COLUMN phone_enc TEXT NULL;
ALTER TABLE users ADD COLUMN phone_masked VARCHAR(16) NULL;
CREATE INDEX ix_users_area ON users(area_id, username);
UPDATE users SET area_id = (
    SELECT g.area_id FROM grants g JOIN areas a ON a.id = g.area_id
    WHERE g.user_id = users.id ORDER BY a.level, a.code LIMIT 1
) WHERE area_id IS NULL;
"#;

/// A household's file lists the cases its members raised and those at its dwelling.
const M0010_HOUSEHOLD_FILE_CASES: &str = r#"
CREATE INDEX ix_cases_requester_person ON cases(requester_person_id, received_at) WHERE requester_person_id IS NOT NULL;
CREATE INDEX ix_cases_dwelling ON cases(dwelling_id, received_at) WHERE dwelling_id IS NOT NULL;
"#;

/// The audit chain becomes keyed (HMAC-SHA-256 with a key outside the database). `alg` says how
/// the rows from the anchor on are hashed: `sha256` until start-up re-keys a chain that verifies
/// (app/audit.rs `upgrade_chain`), `hmac-sha256` after.
const M0009_AUDIT_KEYED: &str = r#"
ALTER TABLE audit_head ADD COLUMN alg VARCHAR(16) NOT NULL DEFAULT 'sha256';
"#;

/// Issue 12: sessions name the browser that made them; failed logins are counted per name;
/// a name under attack hands out turns (app/login_guard.rs).
const M0011_LOGIN_SESSIONS: &str = r#"
ALTER TABLE sessions ADD COLUMN user_agent VARCHAR(200) NULL;
CREATE INDEX ix_login_attempts_user ON login_attempts(username, at);
CREATE TABLE login_throttle (
    username VARCHAR(64) PRIMARY KEY,
    next_at BIGINT NOT NULL
);
"#;

const M0001_FOUNDATION: &str = r#"
CREATE TABLE areas (
    id {uuid} PRIMARY KEY,
    parent_id {uuid} NULL REFERENCES areas(id),
    kind VARCHAR(16) NOT NULL,
    level SMALLINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    code VARCHAR(32) NOT NULL,
    boundary TEXT NULL,
    child_count INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_areas_code ON areas(code);
CREATE INDEX ix_areas_parent ON areas(parent_id, name);

-- Closure table: one row per (ancestor, descendant) including the node itself (depth 0).
-- Subtree and scope checks are index lookups whatever the tree's size.
CREATE TABLE area_closure (
    ancestor_id {uuid} NOT NULL REFERENCES areas(id),
    descendant_id {uuid} NOT NULL REFERENCES areas(id),
    depth SMALLINT NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX ix_area_closure_desc ON area_closure(descendant_id, ancestor_id);

CREATE TABLE party_orgs (
    id {uuid} PRIMARY KEY,
    parent_id {uuid} NULL REFERENCES party_orgs(id),
    kind VARCHAR(32) NOT NULL,
    name VARCHAR(100) NOT NULL,
    area_id {uuid} NOT NULL REFERENCES areas(id),
    child_count INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_party_orgs_parent ON party_orgs(parent_id, name);
CREATE INDEX ix_party_orgs_area ON party_orgs(area_id);

CREATE TABLE party_org_links (
    org_id {uuid} NOT NULL REFERENCES party_orgs(id),
    area_id {uuid} NOT NULL REFERENCES areas(id),
    PRIMARY KEY (org_id, area_id)
);
CREATE INDEX ix_party_org_links_area ON party_org_links(area_id);

CREATE TABLE users (
    id {uuid} PRIMARY KEY,
    username VARCHAR(64) NOT NULL,
    display_name VARCHAR(100) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NULL,
    last_login_at BIGINT NULL,
    password_changed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX ux_users_username ON users(username);

CREATE TABLE api_tokens (
    id {uuid} PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    prefix VARCHAR(16) NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    created_by {uuid} NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NULL,
    last_used_at BIGINT NULL,
    revoked_at BIGINT NULL
);
CREATE UNIQUE INDEX ux_api_tokens_hash ON api_tokens(token_hash);

-- A grant gives a role on an area subtree, to a user or to an API token.
CREATE TABLE grants (
    id {uuid} PRIMARY KEY,
    user_id {uuid} NULL REFERENCES users(id),
    token_id {uuid} NULL REFERENCES api_tokens(id),
    role VARCHAR(32) NOT NULL,
    -- NULL only for system_admin: the whole system.
    area_id {uuid} NULL REFERENCES areas(id),
    created_at BIGINT NOT NULL,
    created_by {uuid} NULL
);
CREATE INDEX ix_grants_user ON grants(user_id);
CREATE INDEX ix_grants_token ON grants(token_id);
CREATE INDEX ix_grants_area ON grants(area_id);

CREATE TABLE sessions (
    id {uuid} PRIMARY KEY,
    token_hash VARCHAR(64) NOT NULL,
    user_id {uuid} NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    client_addr VARCHAR(64) NOT NULL
);
CREATE UNIQUE INDEX ux_sessions_hash ON sessions(token_hash);
CREATE INDEX ix_sessions_user ON sessions(user_id);

CREATE TABLE login_attempts (
    id {uuid} PRIMARY KEY,
    client_addr VARCHAR(64) NOT NULL,
    username VARCHAR(64) NOT NULL,
    at BIGINT NOT NULL,
    success BOOLEAN NOT NULL
);
CREATE INDEX ix_login_attempts_addr ON login_attempts(client_addr, at);

-- Append-only, hash-chained. No code path updates or deletes a row (pruning past retention
-- moves the anchor in audit_head; see app/audit.rs).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id {uuid} NULL,
    actor_name VARCHAR(100) NOT NULL,
    role VARCHAR(32) NULL,
    action VARCHAR(64) NOT NULL,
    object_type VARCHAR(64) NOT NULL,
    object_id VARCHAR(64) NULL,
    fields TEXT NOT NULL,
    client_addr VARCHAR(64) NOT NULL,
    result VARCHAR(16) NOT NULL,
    request_id VARCHAR(64) NOT NULL,
    area_id {uuid} NULL,
    detail TEXT NULL,
    prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL
);
CREATE INDEX ix_audit_at ON audit_log(at);
CREATE INDEX ix_audit_actor ON audit_log(actor_id, seq);
CREATE INDEX ix_audit_action ON audit_log(action, seq);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash VARCHAR(64) NOT NULL,
    anchor_seq BIGINT NOT NULL,
    anchor_hash VARCHAR(64) NOT NULL
);
INSERT INTO audit_head (id, seq, hash, anchor_seq, anchor_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0,
        '0000000000000000000000000000000000000000000000000000000000000000');
"#;

/// The registry (一户一档). Large tables carry their street in the primary key (for distribution
/// by area) and their community and grid for scoped queries; sensitive values are stored
/// encrypted (`*_enc`) with a keyed blind index (`*_bidx`) for exact lookup and a mask for lists.
const M0002_REGISTRY: &str = r#"
CREATE TABLE dwellings (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    grid_id {uuid} NOT NULL,
    building_id {uuid} NOT NULL,
    unit VARCHAR(16) NOT NULL DEFAULT '',
    floor INTEGER NULL,
    room VARCHAR(32) NOT NULL,
    usage VARCHAR(16) NOT NULL,
    address VARCHAR(200) NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at BIGINT NULL,
    last_verified_at BIGINT NULL,
    last_verified_by VARCHAR(100) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_dwellings_id ON dwellings(id);
CREATE INDEX ix_dwellings_grid ON dwellings(grid_id, building_id);
CREATE INDEX ix_dwellings_building ON dwellings(building_id, unit, room);
CREATE UNIQUE INDEX ux_dwellings_address ON dwellings(street_id, building_id, unit, room) WHERE deleted_at IS NULL;

CREATE TABLE dwelling_owners (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    dwelling_id {uuid} NOT NULL,
    person_id {uuid} NULL,
    entity_id {uuid} NULL,
    owner_name VARCHAR(100) NOT NULL,
    from_date VARCHAR(10) NULL,
    to_date VARCHAR(10) NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_dwelling_owners_dwelling ON dwelling_owners(dwelling_id);

CREATE TABLE households (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    grid_id {uuid} NOT NULL,
    area_id {uuid} NOT NULL,
    dwelling_id {uuid} NOT NULL,
    kind VARCHAR(16) NOT NULL,
    head_person_id {uuid} NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at BIGINT NULL,
    last_verified_at BIGINT NULL,
    last_verified_by VARCHAR(100) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_households_id ON households(id);
CREATE INDEX ix_households_area ON households(area_id);
CREATE INDEX ix_households_dwelling ON households(dwelling_id);
CREATE INDEX ix_households_grid ON households(grid_id, last_verified_at);

CREATE TABLE household_members (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    household_id {uuid} NOT NULL,
    person_id {uuid} NOT NULL,
    relation VARCHAR(16) NOT NULL,
    from_date VARCHAR(10) NOT NULL,
    to_date VARCHAR(10) NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_members_household ON household_members(household_id);
CREATE INDEX ix_members_person ON household_members(person_id);

CREATE TABLE persons (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    grid_id {uuid} NOT NULL,
    -- The building when known, else the grid: what scope checks use.
    area_id {uuid} NOT NULL,
    name VARCHAR(64) NOT NULL,
    id_type VARCHAR(16) NOT NULL,
    id_no_enc TEXT NULL,
    id_no_bidx VARCHAR(32) NULL,
    id_no_masked VARCHAR(32) NULL,
    gender VARCHAR(8) NULL,
    birth_date VARCHAR(10) NULL,
    ethnicity VARCHAR(32) NULL,
    mobile_enc TEXT NULL,
    mobile_bidx VARCHAR(32) NULL,
    mobile_masked VARCHAR(16) NULL,
    political_status VARCHAR(16) NULL,
    education VARCHAR(16) NULL,
    occupation VARCHAR(64) NULL,
    work_unit VARCHAR(100) NULL,
    hukou_place VARCHAR(100) NULL,
    residence_type VARCHAR(16) NOT NULL,
    tags VARCHAR(200) NOT NULL DEFAULT '',
    sensitive_tags_enc TEXT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'active',
    left_at BIGINT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at BIGINT NULL,
    last_verified_at BIGINT NULL,
    last_verified_by VARCHAR(100) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_persons_id ON persons(id);
CREATE INDEX ix_persons_area ON persons(area_id);
CREATE INDEX ix_persons_id_no ON persons(id_no_bidx);
CREATE INDEX ix_persons_mobile ON persons(mobile_bidx);
CREATE INDEX ix_persons_community_name ON persons(community_id, name);
CREATE INDEX ix_persons_grid ON persons(grid_id, last_verified_at);

-- One row per person and tag: plain for ordinary tags, 's:' + keyed hash for sensitive ones, so
-- filtering by a sensitive tag never decrypts anything.
CREATE TABLE person_tags (
    street_id {uuid} NOT NULL,
    person_id {uuid} NOT NULL,
    tag_key VARCHAR(80) NOT NULL,
    PRIMARY KEY (street_id, person_id, tag_key)
);
CREATE INDEX ix_person_tags_tag ON person_tags(tag_key, person_id);

CREATE TABLE legal_entities (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    area_id {uuid} NOT NULL,
    dwelling_id {uuid} NULL,
    name VARCHAR(200) NOT NULL,
    uscc VARCHAR(18) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    contact_name VARCHAR(64) NULL,
    contact_mobile_enc TEXT NULL,
    contact_mobile_masked VARCHAR(16) NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_entities_id ON legal_entities(id);
CREATE INDEX ix_entities_uscc ON legal_entities(uscc);
CREATE INDEX ix_entities_community ON legal_entities(community_id, name);

-- Every change to the registry: who, when, why, what changed, and the record as it was after.
CREATE TABLE registry_events (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    at BIGINT NOT NULL,
    actor_id {uuid} NULL,
    actor_name VARCHAR(100) NOT NULL,
    object_type VARCHAR(32) NOT NULL,
    object_id {uuid} NOT NULL,
    household_id {uuid} NULL,
    reason VARCHAR(32) NOT NULL,
    note TEXT NULL,
    changes TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_events_object ON registry_events(object_id, at);
CREATE INDEX ix_events_household ON registry_events(household_id, at);

CREATE TABLE visits (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    grid_id {uuid} NOT NULL,
    area_id {uuid} NOT NULL,
    household_id {uuid} NOT NULL,
    visited_on VARCHAR(10) NOT NULL,
    visitors VARCHAR(200) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    lat DOUBLE PRECISION NULL,
    lon DOUBLE PRECISION NULL,
    notes TEXT NULL,
    created_by {uuid} NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_visits_household ON visits(household_id, visited_on);
CREATE INDEX ix_visits_grid ON visits(grid_id, visited_on);
CREATE INDEX ix_visits_area ON visits(area_id, visited_on);

CREATE TABLE needs (
    street_id {uuid} NOT NULL,
    id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    grid_id {uuid} NOT NULL,
    area_id {uuid} NOT NULL,
    household_id {uuid} NOT NULL,
    visit_id {uuid} NULL,
    category VARCHAR(16) NOT NULL,
    urgency VARCHAR(8) NOT NULL,
    description TEXT NOT NULL,
    owner_user_id {uuid} NULL,
    status VARCHAR(16) NOT NULL,
    due_on VARCHAR(10) NOT NULL,
    result TEXT NULL,
    closed_at BIGINT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (street_id, id)
);
CREATE INDEX ix_needs_id ON needs(id);
CREATE INDEX ix_needs_household ON needs(household_id);
CREATE INDEX ix_needs_grid ON needs(grid_id, status, due_on);
CREATE INDEX ix_needs_area ON needs(area_id, status);
"#;

/// Lookups by head of household (head changes, moves, deletes).
const M0003_REGISTRY_INDEXES: &str = r#"
CREATE INDEX ix_households_head ON households(head_person_id);
"#;

/// The sharing catalogue: which role (or user) may read which fields of which residents.
const M0004_SHARING: &str = r#"
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
"#;

// Name search by index (domain/search.rs, decision 0008): one row per person and name piece.
// Filled for the residents already stored by the migration step `backfill_search_grams`.
const M0005_SEARCH_GRAMS: &str = r#"
-- Keyed by community after the piece, so a scoped search reads only its communities' rows (and in
-- order: a community, then registration). No index by person: a rename or a move deletes the old
-- name's pieces by key.
CREATE TABLE person_name_grams (
    gram VARCHAR(16) NOT NULL,
    person_id {uuid} NOT NULL,
    street_id {uuid} NOT NULL,
    -- Lets a scoped search skip other communities' matches without reading the person.
    community_id {uuid} NOT NULL,
    PRIMARY KEY (gram, community_id, person_id)
) {without_rowid};
"#;

// Most history rows (a person's own) have no household: leave them out of the household index,
// which bulk imports otherwise fill with NULL keys.
const M0006_EVENTS_HOUSEHOLD_PARTIAL: &str = r#"
DROP INDEX ix_events_household;
CREATE INDEX ix_events_household_set ON registry_events(household_id, at) WHERE household_id IS NOT NULL;
"#;

// 接诉即办 (issue 4, docs/cases.md): the category dictionary, handling units and their power
// lists, the working-day calendar, uploaded files, cases with their timeline and whistles, and the
// rate aggregates (folded from an append-only delta table so intake never contends on a counter).
const M0007_CASES: &str = r#"
CREATE TABLE case_categories (
    id {uuid} PRIMARY KEY,
    parent_id {uuid} NULL REFERENCES case_categories(id),
    code VARCHAR(16) NOT NULL,
    name VARCHAR(100) NOT NULL,
    level SMALLINT NOT NULL,
    response_limit VARCHAR(8) NOT NULL,
    handle_limit VARCHAR(8) NOT NULL,
    verify_limit VARCHAR(8) NOT NULL,
    return_visit_required BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_case_categories_code ON case_categories(code);

CREATE TABLE case_units (
    id {uuid} PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    area_id {uuid} NOT NULL REFERENCES areas(id),
    contact VARCHAR(100) NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_case_units_area ON case_units(area_id, kind);
CREATE UNIQUE INDEX ux_case_units_name ON case_units(area_id, name);

-- member_id: a user, or an API token of the unit's own system.
CREATE TABLE case_unit_members (
    unit_id {uuid} NOT NULL REFERENCES case_units(id),
    member_id {uuid} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (unit_id, member_id)
);
CREATE INDEX ix_case_unit_members_member ON case_unit_members(member_id);

CREATE TABLE case_duties (
    id {uuid} PRIMARY KEY,
    unit_id {uuid} NOT NULL REFERENCES case_units(id),
    name VARCHAR(200) NOT NULL,
    legal_basis VARCHAR(500) NOT NULL,
    area_id {uuid} NOT NULL REFERENCES areas(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_case_duties_unit ON case_duties(unit_id);

-- One row per (category code, duty): routing looks up a code, then the duty's area.
CREATE TABLE case_duty_categories (
    category_code VARCHAR(16) NOT NULL,
    duty_id {uuid} NOT NULL REFERENCES case_duties(id),
    PRIMARY KEY (category_code, duty_id)
);
CREATE INDEX ix_case_duty_categories_duty ON case_duty_categories(duty_id);

CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    updated_at BIGINT NOT NULL,
    updated_by VARCHAR(100) NOT NULL
);
CREATE TABLE calendar_days (
    day VARCHAR(10) PRIMARY KEY,
    year INTEGER NOT NULL,
    kind VARCHAR(8) NOT NULL,
    name VARCHAR(50) NOT NULL
);
CREATE INDEX ix_calendar_days_year ON calendar_days(year);

CREATE TABLE files (
    id {uuid} PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    content_type VARCHAR(100) NOT NULL,
    size BIGINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    data {blob} NOT NULL,
    created_by {uuid} NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE cases (
    id {uuid} PRIMARY KEY,
    no VARCHAR(20) NOT NULL,
    street_id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    grid_id {uuid} NULL,
    area_id {uuid} NOT NULL,
    kind VARCHAR(16) NOT NULL,
    channel VARCHAR(16) NOT NULL,
    category_id {uuid} NOT NULL,
    category_code VARCHAR(16) NOT NULL,
    title VARCHAR(200) NOT NULL,
    description TEXT NOT NULL,
    address VARCHAR(300) NULL,
    dwelling_id {uuid} NULL,
    lat DOUBLE PRECISION NULL,
    lon DOUBLE PRECISION NULL,
    requester_name TEXT NOT NULL,
    requester_phone TEXT NULL,
    requester_person_id {uuid} NULL,
    submitted_by {uuid} NULL,
    status VARCHAR(16) NOT NULL,
    unit_id {uuid} NULL,
    first_unit_id {uuid} NULL,
    route_rule VARCHAR(16) NULL,
    route_duty_id {uuid} NULL,
    route_unit_id {uuid} NULL,
    returned_units TEXT NOT NULL DEFAULT '',
    bound BOOLEAN NOT NULL DEFAULT FALSE,
    return_count INTEGER NOT NULL DEFAULT 0,
    extension_count INTEGER NOT NULL DEFAULT 0,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    supervise_count INTEGER NOT NULL DEFAULT 0,
    warned BOOLEAN NOT NULL DEFAULT FALSE,
    overdue BOOLEAN NOT NULL DEFAULT FALSE,
    received_at BIGINT NOT NULL,
    registered_at BIGINT NULL,
    dispatched_at BIGINT NULL,
    responded_at BIGINT NULL,
    handled_at BIGINT NULL,
    verified_at BIGINT NULL,
    rated_at BIGINT NULL,
    closed_at BIGINT NULL,
    response_due_at BIGINT NULL,
    handle_due_at BIGINT NULL,
    verify_due_at BIGINT NULL,
    warn_at BIGINT NULL,
    result TEXT NULL,
    outcome VARCHAR(16) NULL,
    rating VARCHAR(16) NULL,
    rating_comment VARCHAR(500) NULL,
    pending_ext_days INTEGER NULL,
    pending_ext_reason VARCHAR(500) NULL,
    merged_into {uuid} NULL,
    idem_key VARCHAR(200) NULL,
    stat_day INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_cases_no ON cases(no);
CREATE UNIQUE INDEX ux_cases_idem ON cases(idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX ix_cases_community ON cases(community_id, status, received_at);
CREATE INDEX ix_cases_unit ON cases(unit_id, status) WHERE unit_id IS NOT NULL;
CREATE INDEX ix_cases_clock ON cases(status, warn_at, handle_due_at);
CREATE INDEX ix_cases_submitter ON cases(submitted_by, received_at) WHERE submitted_by IS NOT NULL;
CREATE INDEX ix_cases_received ON cases(received_at);
CREATE INDEX ix_cases_area ON cases(area_id, received_at);

CREATE TABLE case_events (
    id {uuid} PRIMARY KEY,
    case_id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    at BIGINT NOT NULL,
    actor_id {uuid} NULL,
    actor_name VARCHAR(100) NOT NULL,
    action VARCHAR(32) NOT NULL,
    from_status VARCHAR(16) NULL,
    to_status VARCHAR(16) NULL,
    unit_id {uuid} NULL,
    note TEXT NULL,
    attachments TEXT NULL
);
CREATE INDEX ix_case_events_case ON case_events(case_id, at);

CREATE TABLE case_whistles (
    id {uuid} PRIMARY KEY,
    case_id {uuid} NOT NULL,
    kind VARCHAR(16) NOT NULL,
    note VARCHAR(500) NULL,
    deadline_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by_name VARCHAR(100) NOT NULL
);
CREATE INDEX ix_case_whistles_case ON case_whistles(case_id);
CREATE TABLE case_whistle_units (
    whistle_id {uuid} NOT NULL REFERENCES case_whistles(id),
    unit_id {uuid} NOT NULL REFERENCES case_units(id),
    arrived_at BIGINT NULL,
    arrived_by_name VARCHAR(100) NULL,
    PRIMARY KEY (whistle_id, unit_id)
);
CREATE INDEX ix_case_whistle_units_unit ON case_whistle_units(unit_id);

-- Each change of a case appends the change of its counters here (no row is ever updated, so
-- concurrent intakes never wait on one another). `app::cases::stats::fold` moves them into
-- case_stats; readers add what is not folded yet.
CREATE TABLE case_stat_deltas (
    id {uuid} PRIMARY KEY,
    day INTEGER NOT NULL,
    area_id {uuid} NOT NULL,
    community_id {uuid} NOT NULL,
    unit_id {uuid} NULL,
    category_id {uuid} NOT NULL,
    received INTEGER NOT NULL,
    due INTEGER NOT NULL,
    responded_in_time INTEGER NOT NULL,
    resolved INTEGER NOT NULL,
    handled_in_time INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    rated INTEGER NOT NULL,
    satisfied INTEGER NOT NULL,
    basic INTEGER NOT NULL,
    dissatisfied INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    supervised INTEGER NOT NULL,
    returned INTEGER NOT NULL
);
CREATE INDEX ix_case_stat_deltas_area ON case_stat_deltas(area_id, day);

-- dim: 'area' (dim_id = the case's grid, else its community), 'unit', 'cat' (category), and
-- 'hot' (dim_id = community, sub_id = category; received only). day: yyyymmdd, or yyyymm00 for
-- a whole month (area, unit, cat), so a year's dashboard reads months, not days.
CREATE TABLE case_stats (
    dim VARCHAR(8) NOT NULL,
    dim_id {uuid} NOT NULL,
    sub_id {uuid} NOT NULL,
    day INTEGER NOT NULL,
    received BIGINT NOT NULL,
    due BIGINT NOT NULL,
    responded_in_time BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    handled_in_time BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    basic BIGINT NOT NULL,
    dissatisfied BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    supervised BIGINT NOT NULL,
    returned BIGINT NOT NULL,
    PRIMARY KEY (dim, dim_id, sub_id, day)
) {without_rowid};
"#;

/// 党员下沉、志愿服务、积分 (issue 5, docs/party-volunteers.md).
// Issue 12: a deadline counted with a day of a year without a published holiday schedule is
// provisional; `deadline_basis` (JSON, app/cases/deadlines.rs) says how each running deadline was
// made, so it can be computed again when the year is loaded.
const M0012_PROVISIONAL_DEADLINES: &str = r#"
ALTER TABLE cases ADD COLUMN deadline_provisional BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE cases ADD COLUMN deadline_basis TEXT NULL;
CREATE INDEX ix_cases_provisional ON cases(id) WHERE deadline_provisional = TRUE;
"#;

const M0008_SERVICE: &str = r#"
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
"#;

/// Replaces the type placeholders for one database: `{uuid}`, and `{without_rowid}` (SQLite
/// stores such a table as its primary-key b-tree alone; PostgreSQL has no such option).
pub fn render(sql: &str, backend: DbBackend) -> String {
    let (uuid, without_rowid, blob) = match backend {
        DbBackend::Postgres => ("UUID", "", "BYTEA"),
        _ => ("BLOB", "WITHOUT ROWID", "BLOB"),
    };
    sql.replace("{uuid}", uuid)
        .replace("{without_rowid}", without_rowid)
        .replace("{blob}", blob)
}

/// Splits a script into statements on `;` at line ends (no `;` inside our DDL strings).
pub fn statements(sql: &str) -> impl Iterator<Item = String> + '_ {
    sql.split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .map(|s| s.trim().trim_end_matches(';').to_string())
        .filter(|s| !s.is_empty())
}

pub struct Migrator;

struct SqlMigration {
    name: &'static str,
    sql: &'static str,
}

impl MigrationName for SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for SqlMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = render(self.sql, db.get_database_backend());
        for stmt in statements(&sql) {
            db.execute_unprepared(&stmt).await?;
        }
        if self.name == "m0005_search_grams" {
            backfill_search_grams(db).await?;
        }
        if self.name == "m0007_cases" {
            super::seed::calendar_years(db).await?;
        }
        Ok(())
    }
}

/// Fills `person_name_grams` for residents stored before it existed, a thousand at a time.
pub async fn backfill_search_grams<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    #[derive(sea_orm::FromQueryResult)]
    struct P {
        id: uuid::Uuid,
        street_id: uuid::Uuid,
        community_id: uuid::Uuid,
        name: String,
    }
    let mut after = uuid::Uuid::nil();
    loop {
        let batch: Vec<P> = super::fetch_all(
            db,
            "SELECT id, street_id, community_id, name FROM persons WHERE id > $1 ORDER BY id LIMIT 1000",
            vec![after.into()],
        )
        .await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.id;
        let rows = batch
            .iter()
            .flat_map(|p| super::seed::gram_rows(p.id, p.street_id, p.community_id, &p.name))
            .collect();
        super::insert_many(db, "person_name_grams", super::seed::GRAM_COLUMNS, rows).await?;
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        MIGRATIONS
            .iter()
            .map(|(name, sql)| Box::new(SqlMigration { name, sql }) as Box<dyn MigrationTrait>)
            .collect()
    }
}
