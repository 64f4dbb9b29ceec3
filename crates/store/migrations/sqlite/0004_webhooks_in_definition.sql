-- The events an assistant's webhooks subscribe to are part of its definition
-- (a turn builds only the events someone listens to): writes to webhooks bump
-- the definition version too.
CREATE TRIGGER webhooks_definition_insert AFTER INSERT ON webhooks
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER webhooks_definition_update AFTER UPDATE ON webhooks
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = NEW.assistant_sid;
END;
CREATE TRIGGER webhooks_definition_delete AFTER DELETE ON webhooks
BEGIN
    UPDATE assistants SET definition_version = definition_version + 1 WHERE sid = OLD.assistant_sid;
END;
