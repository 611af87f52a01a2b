-- Most history rows (a person's own) have no household: leave them out of the household index,
-- which bulk imports otherwise fill with NULL keys.
DROP INDEX ix_events_household;
CREATE INDEX ix_events_household_set ON registry_events(household_id, at) WHERE household_id IS NOT NULL;
