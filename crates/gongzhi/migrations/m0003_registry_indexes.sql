-- Lookups by head of household (head changes, moves, deletes).
CREATE INDEX ix_households_head ON households(head_person_id);
