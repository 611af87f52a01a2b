-- Issue 14: users belong to a home area (who may manage them: app/users.rs `Manager`) and carry
-- a phone, encrypted and masked like residents'. Existing users take the highest area they are
-- granted.
ALTER TABLE users ADD COLUMN area_id {uuid} NULL REFERENCES areas(id);
ALTER TABLE users ADD COLUMN phone_enc TEXT NULL;
ALTER TABLE users ADD COLUMN phone_masked VARCHAR(16) NULL;
CREATE INDEX ix_users_area ON users(area_id, username);
UPDATE users SET area_id = (
    SELECT g.area_id FROM grants g JOIN areas a ON a.id = g.area_id
    WHERE g.user_id = users.id ORDER BY a.level, a.code LIMIT 1
) WHERE area_id IS NULL;
