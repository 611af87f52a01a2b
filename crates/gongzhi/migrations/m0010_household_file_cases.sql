-- A household's file lists the cases its members raised and those at its dwelling.
CREATE INDEX ix_cases_requester_person ON cases(requester_person_id, received_at) WHERE requester_person_id IS NOT NULL;
CREATE INDEX ix_cases_dwelling ON cases(dwelling_id, received_at) WHERE dwelling_id IS NOT NULL;
