"""Tool-call bodies as kept for auditors: secrets taken out, the size bounded.

A tool call's arguments and result can carry anything a member or a server put there; an
organization that keeps them must not end up holding passwords and tokens in its usage logs.
Values under keys that name a secret are replaced whole; strings that look like credentials
(bearer tokens, JWTs, well-known key prefixes, passwords in URLs) are replaced where they stand.
"""

import json
import re

from orgconnectors.audit.redaction import REDACTED

# A body larger than this is cut (and says so): enough to read what a call did.
MAX_BODY_CHARS = 32_000

_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|auth(orization)?|cookie|credential|"
    r"private[-_]?key|session|signature|otp|pin$",
    re.IGNORECASE,
)
_SECRET_TEXT = re.compile(
    r"(?i:bearer\s+)[A-Za-z0-9._~+/-]{8,}=*"  # Authorization: Bearer …
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # a JWT
    r"|\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}"  # sk-… style API keys
    r"|\b(?:ghp|gho|ghu|ghs|github_pat|xox[abpr]|oc)_[A-Za-z0-9_]{16,}"  # GitHub, Slack, ours
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"  # user:password@ in a URL
)


# password=…, "api_key": … written inside text: the name stays, its value goes.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b((?:pass(?:word|wd)?|secret|token|api[-_]?key|client[-_]?secret)\s*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
)


def _text(value: str) -> str:
    value = _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + REDACTED, value)
    return _SECRET_TEXT.sub(REDACTED, value)


def redacted(value, *, key: str = ""):
    """A copy of a JSON value with secrets replaced by "[redacted]"."""
    if key and _SECRET_KEY.search(key):
        return REDACTED if value not in (None, "", [], {}) else value
    if isinstance(value, dict):
        return {k: redacted(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    if isinstance(value, str):
        return _text(value)
    return value


def kept_body(value) -> dict:
    """The redacted value, or a note with its beginning when it is too large to keep whole."""
    clean = redacted(value)
    text = json.dumps(clean, ensure_ascii=False, default=str)
    if len(text) <= MAX_BODY_CHARS:
        return {"value": clean}
    return {"truncated": True, "chars": len(text), "beginning": text[:MAX_BODY_CHARS]}
