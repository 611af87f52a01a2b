-- The registry (一户一档). Large tables carry their street in the primary key (for distribution
-- by area) and their community and grid for scoped queries; sensitive values are stored
-- encrypted (`*_enc`) with a keyed blind index (`*_bidx`) for exact lookup and a mask for lists.
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
