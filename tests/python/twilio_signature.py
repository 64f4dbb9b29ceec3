"""X-Twilio-Signature with Twilio's own RequestValidator (twilio==7.16.0).

The Twilio channel tests of otto-server run this to sign the webhooks they
send as Twilio would, and to check the signatures of the event webhooks otto
sends. Reads one JSON object on standard input:

    {"sign":     [{"token": "...", "url": "...", "params": [["Name", "value"], ...]}],
     "validate": [{"token": "...", "url": "...", "params": [...], "signature": "..."}]}

and prints {"sign": ["<signature>", ...], "validate": [true, ...]} in the same order.
"""

import json
import sys

from twilio.request_validator import RequestValidator


def params_of(job):
    # Twilio's form posts have one value per name; RequestValidator takes a dict.
    return {name: value for name, value in job.get("params", [])}


def main():
    jobs = json.load(sys.stdin)
    out = {
        "sign": [
            RequestValidator(job["token"]).compute_signature(job["url"], params_of(job))
            for job in jobs.get("sign", [])
        ],
        "validate": [
            RequestValidator(job["token"]).validate(job["url"], params_of(job), job["signature"])
            for job in jobs.get("validate", [])
        ],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
