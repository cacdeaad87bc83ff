"""Text people type that ends up in one-line places: email headers, logs, page titles."""

import re

# C0 and C1 control characters and the Unicode line and paragraph separators: each can break a
# header line (BadHeaderError), split a log line or hide text. Tabs are refused too: a name has
# no use for them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

NO_CONTROL_CHARACTERS = (
    "Names cannot contain line breaks, tabs or other control characters; remove them."
)


def has_control_characters(text: str) -> bool:
    return bool(_CONTROL.search(text))


def one_line(text: str) -> str:
    """`text` with every run of control characters made one space: safe as an email subject
    even for a name stored before names were checked."""
    return " ".join(_CONTROL.sub(" ", text).split())
