-- A version of each assistant's definition (everything load_assistant reads),
-- bumped by triggers on every write to it, whoever writes (REST API, import,
-- another otto process): a turn compares one integer with the definition it
-- keeps in memory instead of reading the whole definition again.
ALTER TABLE assistants ADD COLUMN definition_version BIGINT NOT NULL DEFAULT 1;

-- A building model build is held by its trainer until lease_until (epoch
-- seconds), renewed while training; a build whose trainer died is claimed
-- again once the lease has run out.
ALTER TABLE model_builds ADD COLUMN lease_until BIGINT;

CREATE FUNCTION otto_assistant_definition_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.definition_version = OLD.definition_version THEN
        NEW.definition_version := OLD.definition_version + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION otto_definition_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
        RETURN OLD;
    END IF;
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
    RETURN NEW;
END
$$;

CREATE TRIGGER assistants_definition BEFORE UPDATE ON assistants
FOR EACH ROW EXECUTE FUNCTION otto_assistant_definition_changed();

CREATE TRIGGER tasks_definition AFTER INSERT OR UPDATE OR DELETE ON tasks
FOR EACH ROW EXECUTE FUNCTION otto_definition_changed();
CREATE TRIGGER fields_definition AFTER INSERT OR UPDATE OR DELETE ON fields
FOR EACH ROW EXECUTE FUNCTION otto_definition_changed();
CREATE TRIGGER samples_definition AFTER INSERT OR UPDATE OR DELETE ON samples
FOR EACH ROW EXECUTE FUNCTION otto_definition_changed();
CREATE TRIGGER field_types_definition AFTER INSERT OR UPDATE OR DELETE ON field_types
FOR EACH ROW EXECUTE FUNCTION otto_definition_changed();
CREATE TRIGGER field_values_definition AFTER INSERT OR UPDATE OR DELETE ON field_values
FOR EACH ROW EXECUTE FUNCTION otto_definition_changed();

-- Only what the definition shows of a build: its name (the latest build's
-- unique name); status changes reach the assistant row when they matter
-- (latest_model_build_sid), and lease renewals must not bump the version.
CREATE TRIGGER model_builds_definition AFTER INSERT OR DELETE OR UPDATE OF unique_name ON model_builds
FOR EACH ROW EXECUTE FUNCTION otto_definition_changed();
