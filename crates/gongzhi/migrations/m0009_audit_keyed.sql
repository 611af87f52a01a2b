-- The audit chain becomes keyed (HMAC-SHA-256 with a key outside the database). `alg` says how
-- the rows from the anchor on are hashed: `sha256` until start-up re-keys a chain that verifies
-- (app/audit.rs `upgrade_chain`), `hmac-sha256` after.
ALTER TABLE audit_head ADD COLUMN alg VARCHAR(16) NOT NULL DEFAULT 'sha256';
