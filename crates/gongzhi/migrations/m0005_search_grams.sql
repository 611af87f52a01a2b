-- Name search by index (domain/search.rs, decision 0008): one row per person and name piece.
-- Filled for the residents already stored by the migration step `backfill_search_grams`.
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
