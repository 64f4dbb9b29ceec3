-- otto store schema v1 (SQLite). Kept in step with ../postgres/0001_init.sql:
-- same tables, columns and indexes; INTEGER for every integer and flag (0/1),
-- TEXT for SIDs, names and JSON, BLOB for model artefacts.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    date_updated INTEGER NOT NULL
);

CREATE TABLE assistants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL,
    unique_name TEXT NOT NULL,
    friendly_name TEXT,
    log_queries INTEGER NOT NULL,
    development_stage TEXT NOT NULL,
    callback_url TEXT,
    callback_events TEXT,
    defaults TEXT NOT NULL,
    style_sheet TEXT NOT NULL,
    needs_model_build INTEGER NOT NULL,
    training_version INTEGER NOT NULL,
    latest_model_build_sid TEXT,
    model_build_name TEXT,
    deleted INTEGER NOT NULL,
    date_deleted INTEGER,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
);
CREATE UNIQUE INDEX assistants_unique_name ON assistants (account_sid, unique_name) WHERE deleted = 0;

CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL REFERENCES assistants (sid) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    friendly_name TEXT,
    actions TEXT,
    actions_url TEXT,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE (assistant_sid, unique_name)
);

CREATE TABLE fields (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL,
    task_sid TEXT NOT NULL REFERENCES tasks (sid) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    field_type TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE (task_sid, unique_name)
);
CREATE INDEX fields_by_type ON fields (assistant_sid, field_type);
CREATE INDEX fields_by_assistant ON fields (assistant_sid, seq);

CREATE TABLE samples (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL,
    task_sid TEXT NOT NULL REFERENCES tasks (sid) ON DELETE CASCADE,
    language TEXT NOT NULL,
    tagged_text TEXT NOT NULL,
    source_channel TEXT,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
);
CREATE INDEX samples_by_task ON samples (task_sid, seq);
CREATE INDEX samples_by_assistant ON samples (assistant_sid, seq);

CREATE TABLE field_types (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL REFERENCES assistants (sid) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    friendly_name TEXT,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE (assistant_sid, unique_name)
);

CREATE TABLE field_values (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL,
    field_type_sid TEXT NOT NULL REFERENCES field_types (sid) ON DELETE CASCADE,
    language TEXT NOT NULL,
    value TEXT NOT NULL,
    value_key TEXT NOT NULL,
    synonym_of TEXT REFERENCES field_values (sid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE (field_type_sid, language, value_key)
);
CREATE INDEX field_values_synonyms ON field_values (synonym_of);
CREATE INDEX field_values_by_assistant ON field_values (assistant_sid, seq);

CREATE TABLE model_builds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL REFERENCES assistants (sid) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    status TEXT NOT NULL,
    build_duration INTEGER,
    error_code INTEGER,
    status_callback TEXT,
    training_version INTEGER NOT NULL,
    model BLOB,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE (assistant_sid, unique_name)
);
CREATE INDEX model_builds_by_status ON model_builds (status, seq);

CREATE TABLE queries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL REFERENCES assistants (sid) ON DELETE CASCADE,
    language TEXT NOT NULL,
    query TEXT NOT NULL,
    model_build_sid TEXT,
    results TEXT NOT NULL,
    sample_sid TEXT,
    status TEXT NOT NULL,
    source_channel TEXT,
    dialogue_sid TEXT,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
);
CREATE INDEX queries_by_assistant ON queries (assistant_sid, seq);
CREATE INDEX queries_by_age ON queries (date_created);

CREATE TABLE webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    assistant_sid TEXT NOT NULL REFERENCES assistants (sid) ON DELETE CASCADE,
    unique_name TEXT NOT NULL,
    events TEXT NOT NULL,
    webhook_url TEXT NOT NULL,
    webhook_method TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE (assistant_sid, unique_name)
);

CREATE TABLE dialogues (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL,
    assistant_sid TEXT NOT NULL REFERENCES assistants (sid) ON DELETE CASCADE,
    user_identifier TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    active INTEGER NOT NULL,
    version INTEGER NOT NULL,
    turn_count INTEGER NOT NULL,
    last_input_at INTEGER NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
);
CREATE UNIQUE INDEX dialogues_one_active ON dialogues (assistant_sid, user_identifier) WHERE active = 1;
CREATE INDEX dialogues_idle ON dialogues (active, last_input_at);

CREATE TABLE turns (
    dialogue_sid TEXT NOT NULL REFERENCES dialogues (sid) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    assistant_sid TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    task TEXT,
    message_sid TEXT,
    date_created INTEGER NOT NULL,
    PRIMARY KEY (dialogue_sid, seq)
);
CREATE INDEX turns_by_assistant ON turns (assistant_sid, date_created);

CREATE TABLE event_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assistant_sid TEXT NOT NULL,
    webhook_sid TEXT NOT NULL REFERENCES webhooks (sid) ON DELETE CASCADE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error TEXT,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL
);
CREATE INDEX event_queue_due ON event_queue (status, next_attempt_at, id);

CREATE TABLE inbound_messages (
    message_sid TEXT PRIMARY KEY,
    assistant_sid TEXT NOT NULL,
    dialogue_sid TEXT,
    turn_seq INTEGER,
    date_created INTEGER NOT NULL
);
