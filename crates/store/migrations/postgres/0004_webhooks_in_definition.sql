-- The events an assistant's webhooks subscribe to are part of its definition
-- (a turn builds only the events someone listens to): writes to webhooks bump
-- the definition version too.
CREATE TRIGGER webhooks_definition AFTER INSERT OR UPDATE OR DELETE ON webhooks
FOR EACH ROW EXECUTE FUNCTION otto_definition_changed();
