"""Drives otto's Autopilot v1 REST API with Twilio's own Python helper library
(twilio 7.16.0, the last 7.x with the Autopilot client), only the base URL
changed. Run by crates/server/tests/rest_python.rs against a server on
loopback:

    OTTO_BASE_URL=http://127.0.0.1:PORT OTTO_ACCOUNT_SID=AC… OTTO_AUTH_TOKEN=… python autopilot_helper_library.py

Every step asserts what it gets back; the last line printed is a JSON summary
that the Rust test checks against the store. Exits non-zero on the first
difference.
"""

import datetime
import json
import os
import sys
import time

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

BASE = os.environ["OTTO_BASE_URL"].rstrip("/")
ACCOUNT = os.environ["OTTO_ACCOUNT_SID"]
TOKEN = os.environ["OTTO_AUTH_TOKEN"]


def step(text):
    print("step:", text, file=sys.stderr)


def expect_error(call, status, code, needle):
    try:
        call()
    except TwilioRestException as error:
        assert error.status == status, (error.status, error.msg)
        assert error.code == code, (error.code, error.msg)
        assert needle in error.msg, (needle, error.msg)
        return error
    raise AssertionError("expected HTTP %d (%d) containing %r" % (status, code, needle))


def is_sid(value, prefix):
    return (
        isinstance(value, str)
        and len(value) == 34
        and value.startswith(prefix)
        and all(c in "0123456789abcdefABCDEF" for c in value[2:])
    )


client = Client(ACCOUNT, TOKEN)
# The one change a user makes: point the Autopilot domain at otto.
client.autopilot.base_url = BASE
autopilot = client.autopilot.v1

step("assistant")
assistant = autopilot.assistants.create(
    unique_name="paint-shop",
    friendly_name="Paint shop",
    log_queries=True,
    style_sheet={"style_sheet": {"voice": {"say_voice": "Polly.Joanna"}}},
    defaults={"defaults": {"fallback": "task://colour"}},
)
assert is_sid(assistant.sid, "UA"), assistant.sid
assert assistant.account_sid == ACCOUNT
assert assistant.unique_name == "paint-shop"
assert assistant.log_queries is True
assert assistant.needs_model_build in (True, False)
assert isinstance(assistant.date_created, datetime.datetime), assistant.date_created
assert assistant.url == "%s/v1/Assistants/%s" % (BASE, assistant.sid)
assert assistant.links["tasks"] == "%s/v1/Assistants/%s/Tasks" % (BASE, assistant.sid)
by_name = autopilot.assistants("paint-shop").fetch()
assert by_name.sid == assistant.sid
bot = autopilot.assistants(assistant.sid)
updated = bot.update(friendly_name="The paint shop", development_stage="in-production")
assert updated.friendly_name == "The paint shop"
assert updated.development_stage == "in-production"

step("defaults and style sheet")
assert bot.defaults().fetch().data == {"defaults": {"fallback": "task://colour"}}
bot.defaults().update(defaults={"defaults": {"fallback": "task://colour", "assistant_initiation": "task://greeting"}})
assert bot.defaults().fetch().data["defaults"]["assistant_initiation"] == "task://greeting"
bot.style_sheet().update(style_sheet={"style_sheet": {"voice": {"say_voice": "Polly.Matthew"}}})
assert bot.style_sheet().fetch().data["style_sheet"]["voice"]["say_voice"] == "Polly.Matthew"

step("field type and values")
field_type = bot.field_types.create(unique_name="colour", friendly_name="Colours")
assert is_sid(field_type.sid, "UB")
values = {}
for value in ["red", "blue", "green", "yellow"]:
    created = bot.field_types("colour").field_values.create(language="en-US", value=value)
    assert is_sid(created.sid, "UC")
    values[value] = created.sid
crimson = bot.field_types(field_type.sid).field_values.create(language="en-US", value="crimson", synonym_of="red")
assert crimson.synonym_of == values["red"], crimson.synonym_of
listed_values = bot.field_types("colour").field_values.list(language="en-US")
assert sorted(v.value for v in listed_values) == ["blue", "crimson", "green", "red", "yellow"]

step("tasks, fields, samples, actions")
actions = {"actions": [{"say": "Which colour would you like?"}, {"listen": True}]}
task = bot.tasks.create(unique_name="colour", friendly_name="Pick a colour", actions=actions)
assert is_sid(task.sid, "UD")
assert task.links["samples"] == "%s/v1/Assistants/%s/Tasks/%s/Samples" % (BASE, assistant.sid, task.sid)
field = bot.tasks("colour").fields.create(field_type="colour", unique_name="shade")
assert is_sid(field.sid, "UE") and field.field_type == "colour"
for text in [
    "I would like {shade}",
    "paint it {shade}",
    "{shade} please",
    "can I get {shade} paint",
    "I want the colour {shade}",
    "my favourite colour is {shade}",
]:
    sample = bot.tasks(task.sid).samples.create(language="en-US", tagged_text=text)
    assert is_sid(sample.sid, "UF")
greeting = bot.tasks.create(unique_name="greeting", actions={"actions": [{"say": "Hello!"}, {"listen": True}]})
for text in ["hello", "hi there", "good morning", "hey", "hello there friend"]:
    bot.tasks("greeting").samples.create(language="en-US", tagged_text=text, source_channel="sms")
fetched_actions = bot.tasks("colour").task_actions().fetch()
assert fetched_actions.data == actions, fetched_actions.data
new_actions = {"actions": [{"say": "Which colour, then?"}, {"listen": True}]}
bot.tasks("colour").task_actions().update(actions=new_actions)
assert bot.tasks("colour").task_actions().fetch().data == new_actions
statistics = bot.tasks("colour").statistics().fetch()
assert statistics.samples_count == 6 and statistics.fields_count == 1, (statistics.samples_count, statistics.fields_count)

step("refusals as TwilioRestException")
expect_error(lambda: bot.tasks.create(unique_name="colour"), 409, 20001, "already used")
expect_error(lambda: bot.tasks("no-such-task").fetch(), 404, 20404, "was not found")
expect_error(
    lambda: bot.tasks("colour").task_actions().update(actions={"actions": [{"say": "hi"}, {"sya": "typo"}]}),
    400,
    90100,
    "actions[1]",
)

step("webhook")
webhook = bot.webhooks.create(unique_name="events", events="onDialogueStart onDialogueEnd", webhook_url="https://example.com/events")
assert is_sid(webhook.sid, "UM") and webhook.webhook_method == "POST"
assert bot.webhooks("events").update(webhook_method="GET").webhook_method == "GET"

step("model build")
build = bot.model_builds.create(unique_name="v1")
assert is_sid(build.sid, "UG")
assert build.status in ("enqueued", "building", "completed"), build.status
deadline = time.time() + 60
while build.status in ("enqueued", "building"):
    assert time.time() < deadline, "the build did not finish within 60 s"
    time.sleep(0.2)
    build = bot.model_builds(build.sid).fetch()
assert build.status == "completed", (build.status, build.error_code)
assert isinstance(build.build_duration, int)
assert bot.fetch().latest_model_build_sid == build.sid
assert [b.sid for b in bot.model_builds.list()] == [build.sid]

step("query")
query = bot.queries.create(language="en-US", query="I would like crimson")
assert is_sid(query.sid, "UH")
assert query.model_build_sid == build.sid
assert query.results["task"]["name"] == "colour", query.results
assert query.results["task"]["task_sid"] == task.sid
assert query.results["fields"] == [{"name": "shade", "value": "red", "type": "colour"}], query.results
reviewed = bot.queries(query.sid).update(status="reviewed")
assert reviewed.status == "reviewed"
listed_queries = bot.queries.list(status="reviewed")
assert [q.sid for q in listed_queries] == [query.sid]

step("a live dialogue, fetched through the library")
# The library has no custom channel; a plain form POST starts the dialogue.
import requests  # installed with twilio

turn = requests.post(
    "%s/v2/%s/%s/custom/web" % (BASE, ACCOUNT, assistant.sid),
    data={"UserId": "painter", "Text": "paint it blue", "Language": "en-US"},
    auth=(ACCOUNT, TOKEN),
    timeout=30,
)
assert turn.status_code == 200, turn.text
answer = turn.json()
assert answer["response"]["says"][0]["text"] == "Which colour, then?", answer
dialogue = bot.dialogues(answer["dialogue"]["sid"]).fetch()
assert dialogue.sid == answer["dialogue"]["sid"] and dialogue.assistant_sid == assistant.sid
assert dialogue.data["current_task"] == "colour", dialogue.data
assert dialogue.url == "%s/v1/Assistants/%s/Dialogues/%s" % (BASE, assistant.sid, dialogue.sid)

step("paging")
for index in range(5):
    bot.tasks.create(unique_name="extra-%d" % index)
# The library follows next_page_url page by page.
all_tasks = bot.tasks.list(page_size=2)
names = [t.unique_name for t in all_tasks]
assert names == ["colour", "greeting", "extra-0", "extra-1", "extra-2", "extra-3", "extra-4"], names
first_page = bot.tasks.page(page_size=3)
assert [t.unique_name for t in first_page] == ["colour", "greeting", "extra-0"]
second_page = first_page.next_page()
assert [t.unique_name for t in second_page] == ["extra-1", "extra-2", "extra-3"]
third_page = second_page.next_page()
assert [t.unique_name for t in third_page] == ["extra-4"]
assert third_page.next_page() is None
back = third_page.previous_page()
assert [t.unique_name for t in back] == ["extra-1", "extra-2", "extra-3"]
pages = 3
limited = bot.tasks.list(limit=3, page_size=2)
assert len(limited) == 3

step("delete")
assert bot.tasks("extra-4").delete() is True
first_sample = bot.tasks("colour").samples.list(limit=1)[0]
assert bot.tasks("colour").samples(first_sample.sid).delete() is True
assert bot.webhooks("events").delete() is True
assert bot.delete() is True
expect_error(lambda: autopilot.assistants(assistant.sid).fetch(), 404, 20404, "was not found")
assert assistant.sid not in [a.sid for a in autopilot.assistants.list()]
restored = autopilot.restore_assistant.update(assistant=assistant.sid)
assert restored.sid == assistant.sid and restored.unique_name == "paint-shop"
assert autopilot.assistants("paint-shop").fetch().sid == assistant.sid

print(
    json.dumps(
        {
            "assistant_sid": assistant.sid,
            "task_sid": task.sid,
            "build_sid": build.sid,
            "build_status": build.status,
            "query_sid": query.sid,
            "query_task": query.results["task"]["name"],
            "query_fields": query.results["fields"],
            "listed_tasks": names,
            "pages": pages,
            "deleted_sample": first_sample.sid,
            "dialogue_sid": dialogue.sid,
        }
    )
)
