-- 党员下沉、志愿服务、积分 (issue 5, docs/party-volunteers.md).
-- Issue 12: a deadline counted with a day of a year without a published holiday schedule is
-- provisional; `deadline_basis` (JSON, app/cases/deadlines.rs) says how each running deadline was
-- made, so it can be computed again when the year is loaded.
ALTER TABLE cases ADD COLUMN deadline_provisional BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE cases ADD COLUMN deadline_basis TEXT NULL;
CREATE INDEX ix_cases_provisional ON cases(id) WHERE deadline_provisional = TRUE;
