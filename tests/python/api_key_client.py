"""Authenticates to otto with an API key through Twilio's Python helper
library (twilio 7.16.0): Client(key_sid, key_secret, account_sid), as Twilio
documents for API keys. Run by crates/server/tests/rest_python.rs:

    OTTO_BASE_URL=… OTTO_ACCOUNT_SID=AC… OTTO_API_KEY=SK… OTTO_API_SECRET=… python api_key_client.py

Lists and creates assistants with the key, checks that a wrong secret is refused with
Twilio's 401 (code 20003), and prints a JSON summary as its last line.
"""

import json
import os

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

BASE = os.environ["OTTO_BASE_URL"].rstrip("/")
ACCOUNT = os.environ["OTTO_ACCOUNT_SID"]
KEY = os.environ["OTTO_API_KEY"]
SECRET = os.environ["OTTO_API_SECRET"]


def client(secret):
    made = Client(KEY, secret, ACCOUNT)
    made.autopilot.base_url = BASE
    return made


listed = [a.unique_name for a in client(SECRET).autopilot.v1.assistants.list()]
created = client(SECRET).autopilot.v1.assistants.create(unique_name="made-with-a-key")
assert created.account_sid == ACCOUNT, created.account_sid

try:
    # A fetch: lists raise the library's generic TwilioException on any error.
    client(SECRET + "x").autopilot.v1.assistants("made-with-a-key").fetch()
    raise AssertionError("a wrong secret was accepted")
except TwilioRestException as error:
    refused = {"status": error.status, "code": error.code, "message": error.msg}

print(json.dumps({"listed": listed, "created": created.sid, "refused": refused}))
