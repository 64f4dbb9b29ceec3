#!/usr/bin/env python3
"""Writes otto_autopilot_v1.openapi.json: the OpenAPI description otto serves
at GET /v1/openapi.json.

It starts from Twilio's description of Autopilot v1 (../shared/spec beside the
repository), since otto serves exactly those paths, methods, parameters and
response bodies, and adds what otto does on top: the Twilio error body on
every operation, the description endpoint itself, and notes where otto
differs. `servers` is replaced with otto's public URL when served.

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
        "the account SID and auth token. Every failure answers the Twilio error body "
        "(`#/components/schemas/otto.error`). Differences from Twilio are listed in the "
        "repository's docs/api.md; the main ones: Query `results` is "
        "`{task: {name, task_sid, confidence}, fields: [{name, value, type}], next_best_task}`; "
        "a unique name or field value already taken is HTTP 409 (code 20001); Actions JSON "
        "problems are HTTP 400 with code 90100 naming the action (`actions[1].say: ...`); "
        "API keys (SK...) are not supported."
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

with open(TARGET, "w") as f:
    json.dump(spec, f, indent=1, sort_keys=False)
    f.write("\n")
print(TARGET)
