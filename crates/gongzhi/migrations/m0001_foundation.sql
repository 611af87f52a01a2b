-- The foundation (issues 1 and 2): the area tree (adjacency list plus closure table, decision 0003),
-- party organisations, users, API tokens and their grants on area subtrees, login sessions and
-- attempts, and the hash-chained audit log with its head row.
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
