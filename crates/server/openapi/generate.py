#!/usr/bin/env python3
"""Writes otto_autopilot_v1.openapi.json: the OpenAPI description otto serves
at GET /v1/openapi.json.

It starts from Twilio's description of Autopilot v1 (../shared/spec beside the
repository), since otto serves exactly those paths, methods, parameters and
response bodies, and adds what otto does on top: the Twilio error body on
every operation, the description endpoint itself, the custom channel (v2 and
v1), /health and the API keys (Twilio's 2010 Keys resource), and notes where
otto differs. `servers` is replaced with
otto's public URL when served. The Twilio channels (messaging, voice) answer
TwiML to Twilio itself and are described in the README, not here.

Run from the repository root:  python3 crates/server/openapi/generate.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "..", "..", "shared", "spec", "twilio_autopilot_v1.openapi.json")
TARGET = os.path.join(HERE, "otto_autopilot_v1.openapi.json")

with open(SOURCE) as f:
    spec = json.load(f)

spec["info"] = {
    "title": "otto: Autopilot v1 REST API",
    "version": "1.0.0",
    "description": (
        "The Twilio Autopilot v1 REST API as otto serves it: the same paths, form parameters and "
        "JSON bodies as Twilio's description (twilio-oai, twilio_autopilot_v1.json), so Twilio's "
        "helper libraries work with only the base URL changed. Authentication is HTTP Basic with "
        "the account SID and auth token, or an API key (SK...) of the account and its secret "
        "(made with `otto keys create`). Every failure answers the Twilio error body "
        "(`#/components/schemas/otto.error`). Differences from Twilio are listed in the "
        "repository's docs/api.md; the main ones: Query `results` is "
        "`{task: {name, task_sid, confidence}, fields: [{name, value, type}], next_best_task}`; "
        "a unique name or field value already taken is HTTP 409 (code 20001); Actions JSON "
        "problems are HTTP 400 with code 90100 naming the action (`actions[1].say: ...`)."
    ),
    "license": {"name": "MIT (Twilio's description)", "url": "https://github.com/twilio/twilio-oai"},
}
spec["servers"] = [{"url": "http://127.0.0.1:8080"}]

spec["components"]["schemas"]["otto.error"] = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "properties": {
        "code": {"type": "integer", "description": "Twilio error code: 20001 invalid parameter, 20003 authentication, 20404 not found, 20004 method not allowed, 20500 internal, 20503 unavailable, 90100 invalid Actions JSON"},
        "message": {"type": "string", "description": "What is wrong, naming the parameter"},
        "more_info": {"type": "string", "format": "uri"},
        "status": {"type": "integer", "description": "The HTTP status"},
    },
}
error_response = {
    "description": "Twilio's error body",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/otto.error"}}},
}
for path, item in spec["paths"].items():
    for method, operation in item.items():
        if method in ("get", "post", "delete"):
            operation["responses"]["default"] = error_response

spec["paths"]["/v1/openapi.json"] = {
    "get": {
        "summary": "This description, with `servers` set to the server's public URL",
        "operationId": "FetchOpenApi",
        "security": [],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}},
    }
}

# The other routes otto serves (README "The custom channel"; crates/server/README.md).
error_responses = {"default": error_response}
sid_schema = lambda prefix: {"type": "string", "pattern": "^%s[0-9a-fA-F]{32}$" % prefix, "minLength": 34, "maxLength": 34}
channel_response = {
    "type": "object",
    "description": "What the assistant answered: `says` [{speech, text}], `shows`, `listen`, `collect`, and `plays` / `handoff` when used",
    "properties": {
        "says": {"type": "array", "items": {"type": "object", "properties": {"speech": {"type": "string"}, "text": {"type": "string"}}}},
        "shows": {"type": "array", "items": {"type": "object"}},
        "listen": {"type": "object", "nullable": True},
        "collect": {"type": "object", "nullable": True},
        "plays": {"type": "array", "items": {"type": "object"}},
        "handoff": {"type": "object"},
    },
    "required": ["says", "shows", "listen", "collect"],
    "additionalProperties": False,
}
path_parameter = lambda name, description: {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}
channel_parameters = [
    path_parameter("AccountSid", "The account SID (the server's)"),
    path_parameter("AssistantSid", "The assistant's SID or unique name"),
    path_parameter("ChannelName", "A name for the channel, recorded with the dialogue"),
]
spec["paths"]["/v2/{AccountSid}/{AssistantSid}/custom/{ChannelName}"] = {
    "post": {
        "summary": "One message of a user over the custom channel (Autopilot's Custom Channels API v2)",
        "operationId": "CreateCustomChannelMessage",
        "security": [{"accountSid_authToken": []}],
        "parameters": channel_parameters,
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object",
            "required": ["UserId", "Text"],
            "properties": {
                "UserId": {"type": "string", "description": "Identifies the end user (one active dialogue per user)"},
                "Text": {"type": "string", "description": "What the user said"},
                "Language": {"type": "string"},
                "TargetTask": {"type": "string", "description": "Run this task instead of asking the NLU (also accepted in the query string)"},
                "Memory": {"type": "string", "description": "A JSON object merged into the dialogue's memory (also accepted in the query string)"},
            },
        }}}},
        "responses": dict({"200": {"description": "OK", "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["response", "dialogue"],
            "additionalProperties": False,
            "properties": {
                "response": channel_response,
                "dialogue": {"type": "object", "required": ["sid", "ended"], "additionalProperties": False,
                             "properties": {"sid": sid_schema("UK"), "ended": {"type": "boolean"}}},
            },
        }}}}}, **error_responses),
    }
}
spec["paths"]["/v1/{AccountSid}/{AssistantSid}/custom/{ChannelName}"] = {
    "post": {
        "summary": "The deprecated v1 custom channel: `user_id` and `text`; answers the response object alone",
        "operationId": "CreateCustomChannelMessageV1",
        "security": [{"accountSid_authToken": []}],
        "parameters": channel_parameters,
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object",
            "required": ["user_id", "text"],
            "properties": {"user_id": {"type": "string"}, "text": {"type": "string"}},
        }}}},
        "responses": dict({"200": {"description": "OK", "content": {"application/json": {"schema": channel_response}}}}, **error_responses),
    }
}
spec["paths"]["/health"] = {
    "get": {
        "summary": "200 when the database answers, 503 when it does not",
        "operationId": "FetchHealth",
        "security": [],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["status", "database"],
                "properties": {"status": {"type": "string"}, "database": {"type": "string"}}}}}},
            "503": {"description": "The database does not answer"},
        },
    }
}

# API keys (Twilio's standard keys, `/2010-04-01/.../Keys`): managed with the auth token
# only; the secret is shown once, when the key is made.
key_schema = {
    "type": "object",
    "required": ["sid", "friendly_name", "date_created", "date_updated"],
    "properties": {
        "sid": sid_schema("SK"),
        "friendly_name": {"type": "string", "nullable": True},
        "date_created": {"type": "string", "description": "RFC 2822, as Twilio's 2010 API"},
        "date_updated": {"type": "string", "description": "RFC 2822, as Twilio's 2010 API"},
    },
}
new_key_schema = {
    "allOf": [key_schema, {"type": "object", "required": ["secret"], "properties": {
        "secret": {"type": "string", "description": "Shown only in this answer"}}}],
}
key_list_schema = {
    "type": "object",
    "properties": dict({"keys": {"type": "array", "items": key_schema}}, **{
        name: {"type": kind} for name, kind in [
            ("start", "integer"), ("end", "integer"), ("page", "integer"),
            ("page_size", "integer"), ("uri", "string"), ("first_page_uri", "string"),
            ("next_page_uri", "string"), ("previous_page_uri", "string")]
    }),
}
account_parameter = {"name": "AccountSid", "in": "path", "required": True, "schema": sid_schema("AC")}
key_file_parameter = {"name": "Sid", "in": "path", "required": True,
                      "description": "The key's SID followed by `.json`",
                      "schema": {"type": "string", "pattern": "^SK[0-9a-fA-F]{32}\\.json$"}}
name_body = {"content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "properties": {"FriendlyName": {"type": "string", "maxLength": 64}}}}}}
json_answer = lambda schema, status="200", what="OK": {status: {"description": what, "content": {"application/json": {"schema": schema}}}}
spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Keys.json"] = {
    "parameters": [account_parameter],
    "get": {
        "summary": "The account's API keys (auth token only)",
        "operationId": "ListKey",
        "parameters": [{"name": "PageSize", "in": "query", "schema": {"type": "integer"}},
                       {"name": "Page", "in": "query", "schema": {"type": "integer"}},
                       {"name": "PageToken", "in": "query", "schema": {"type": "string"}}],
        "responses": dict(json_answer(key_list_schema), **error_responses),
    },
    "post": {
        "summary": "A new API key; its secret is in this answer only (auth token only)",
        "operationId": "CreateNewKey",
        "requestBody": name_body,
        "responses": dict(json_answer(new_key_schema, "201", "Created"), **error_responses),
    },
}
spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}"] = {
    "parameters": [account_parameter, key_file_parameter],
    "get": {"summary": "One API key", "operationId": "FetchKey",
            "responses": dict(json_answer(key_schema), **error_responses)},
    "post": {"summary": "Renames an API key (an empty FriendlyName clears it)", "operationId": "UpdateKey",
             "requestBody": name_body, "responses": dict(json_answer(key_schema), **error_responses)},
    "delete": {"summary": "Revokes an API key", "operationId": "DeleteKey",
               "responses": dict({"204": {"description": "Deleted"}}, **error_responses)},
}

with open(TARGET, "w") as f:
    json.dump(spec, f, indent=1, sort_keys=False)
    f.write("\n")
print(TARGET)
