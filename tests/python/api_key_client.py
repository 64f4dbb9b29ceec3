"""API keys through Twilio's Python helper library (twilio 7.16.0). Run by
crates/server/tests/rest_python.rs:

    OTTO_BASE_URL=… OTTO_ACCOUNT_SID=AC… OTTO_AUTH_TOKEN=… OTTO_API_KEY=SK… OTTO_API_SECRET=… python api_key_client.py

With the key: Client(key_sid, key_secret, account_sid), as Twilio documents
for API keys, lists and creates assistants; a wrong secret is Twilio's 401
(code 20003). With the auth token: new_keys.create, keys.list, keys(sid)
fetch / update / delete over the 2010 API; a key may not manage keys (403).
Prints a JSON summary as its last line.
"""

import json
import os

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

BASE = os.environ["OTTO_BASE_URL"].rstrip("/")
ACCOUNT = os.environ["OTTO_ACCOUNT_SID"]
TOKEN = os.environ["OTTO_AUTH_TOKEN"]
KEY = os.environ["OTTO_API_KEY"]
SECRET = os.environ["OTTO_API_SECRET"]


def client(user, password):
    made = Client(user, password, ACCOUNT)
    made.autopilot.base_url = BASE
    made.api.base_url = BASE
    return made


def refusal(call):
    """The TwilioRestException of a fetch (lists raise the library's generic
    TwilioException on any error, so refusals are checked with fetches)."""
    try:
        call()
    except TwilioRestException as error:
        return {"status": error.status, "code": error.code, "message": error.msg}
    raise AssertionError("the call was not refused")


with_key = client(KEY, SECRET)
listed = [a.unique_name for a in with_key.autopilot.v1.assistants.list()]
created = with_key.autopilot.v1.assistants.create(unique_name="made-with-a-key")
assert created.account_sid == ACCOUNT, created.account_sid
refused = refusal(
    lambda: client(KEY, SECRET + "x").autopilot.v1.assistants("made-with-a-key").fetch()
)

# Keys managed with the auth token, as on Twilio.
with_token = client(ACCOUNT, TOKEN)
new = with_token.new_keys.create(friendly_name="from python")
assert new.sid.startswith("SK") and len(new.secret) == 32, (new.sid, new.secret)
assert new.date_created is not None, "an RFC 2822 date the library parses"
new_key_assistants = [
    a.unique_name for a in client(new.sid, new.secret).autopilot.v1.assistants.list()
]
keys_listed = [(k.sid, k.friendly_name) for k in with_token.keys.list()]
renamed = with_token.keys(new.sid).update(friendly_name="renamed").friendly_name
fetched = with_token.keys(new.sid).fetch().friendly_name
forbidden = refusal(lambda: with_key.keys(new.sid).fetch())
deleted = with_token.keys(new.sid).delete()
after_delete = refusal(
    lambda: client(new.sid, new.secret).autopilot.v1.assistants("made-with-a-key").fetch()
)

print(json.dumps({
    "listed": listed,
    "created": created.sid,
    "refused": refused,
    "new_key": new.sid,
    "new_key_assistants": new_key_assistants,
    "keys_listed": keys_listed,
    "renamed": renamed,
    "fetched": fetched,
    "forbidden": forbidden,
    "deleted": deleted,
    "after_delete": after_delete,
}))
