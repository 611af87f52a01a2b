-- Issue 12: sessions name the browser that made them; failed logins are counted per name;
-- a name under attack hands out turns (app/login_guard.rs).
ALTER TABLE sessions ADD COLUMN user_agent VARCHAR(200) NULL;
CREATE INDEX ix_login_attempts_user ON login_attempts(username, at);
CREATE TABLE login_throttle (
    username VARCHAR(64) PRIMARY KEY,
    next_at BIGINT NOT NULL
);
