-- Issue 15 point 5: questions and public answers (回应关切, app/questions/). A resident's question
-- about a community, routed like a case (`unit_id`, `route_rule`, `duty_id`) with an answer
-- deadline; the answer, and the public wording (`public_title`, `public_body`) the answerer
-- chose when publishing it on the community's public page. A question asked again is linked to
-- the earlier one (`linked_to`), which counts how often it was asked (`asked_count`). The asker is
-- kept as their account and a masked name only. `question_helped` holds one row per anonymous
-- "this helped me" (a random cookie's hash, `voter`), so a tap counts once; `addr` (a hash of the
-- address) bounds how many one address may make in an hour. No foreign key from it to
-- `questions`: rows are written by strangers and only counted.
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
