-- A version of each assistant's definition (everything load_assistant reads),
-- bumped by triggers on every write to it, whoever writes (REST API, import,
-- another otto process): a turn compares one integer with the definition it
-- keeps in memory instead of reading the whole definition again.
ALTER TABLE assistants ADD COLUMN definition_version INTEGER NOT NULL DEFAULT 1;

-- A building model build is held by its trainer until lease_until (epoch
-- seconds), renewed while training; a build whose trainer died is claimed
-- again once the lease has run out.
ALTER TABLE model_builds ADD COLUMN lease_until INTEGER;

CREATE TRIGGER assistants_definition AFTER UPDATE ON assistants
WHEN NEW.definition_version = OLD.definition_version
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.sid;
END;

CREATE TRIGGER tasks_definition_insert AFTER INSERT ON tasks
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER tasks_definition_update AFTER UPDATE ON tasks
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER tasks_definition_delete AFTER DELETE ON tasks
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
END;

CREATE TRIGGER fields_definition_insert AFTER INSERT ON fields
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER fields_definition_update AFTER UPDATE ON fields
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER fields_definition_delete AFTER DELETE ON fields
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
END;

CREATE TRIGGER samples_definition_insert AFTER INSERT ON samples
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER samples_definition_update AFTER UPDATE ON samples
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER samples_definition_delete AFTER DELETE ON samples
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
END;

CREATE TRIGGER field_types_definition_insert AFTER INSERT ON field_types
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER field_types_definition_update AFTER UPDATE ON field_types
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER field_types_definition_delete AFTER DELETE ON field_types
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
END;

CREATE TRIGGER field_values_definition_insert AFTER INSERT ON field_values
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER field_values_definition_update AFTER UPDATE ON field_values
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER field_values_definition_delete AFTER DELETE ON field_values
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
END;

-- Only what the definition shows of a build: its name (the latest build's
-- unique name); status changes reach the assistant row when they matter
-- (latest_model_build_sid), and lease renewals must not bump the version.
CREATE TRIGGER model_builds_definition_insert AFTER INSERT ON model_builds
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER model_builds_definition_update AFTER UPDATE OF unique_name ON model_builds
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER model_builds_definition_delete AFTER DELETE ON model_builds
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
END;
