-- 接诉即办 (issue 4, docs/cases.md): the category dictionary, handling units and their power
-- lists, the working-day calendar, uploaded files, cases with their timeline and whistles, and the
-- rate aggregates (folded from an append-only delta table so intake never contends on a counter).
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
