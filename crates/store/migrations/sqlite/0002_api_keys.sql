-- otto store schema v2 (SQLite): API keys. Kept in step with ../postgres/0002_api_keys.sql.
-- Only a SHA-256 of the secret is kept (lower-case hex); the secret itself is shown
-- once, when the key is created.

CREATE TABLE api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL,
    friendly_name TEXT,
    secret_hash TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_sid, seq);
