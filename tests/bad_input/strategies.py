"""Hypothesis strategies for what an attacker (or a careless script) sends: hostile text, URLs,
dates, JSON and numbers, each as a value to put in one field of a valid request."""

import string

from hypothesis import strategies as st

# Values known to break something somewhere: PostgreSQL refuses NUL, a lone surrogate cannot be
# encoded as UTF-8, header injection, format strings, markup, right-to-left overrides.
_NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "a\udfffb",
    "\r\nBcc: everyone@example.com",
    "\u2028\u2029",
    "\u202egnp.exe",
    "%s%s%n%x",
    "{0.__class__}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../../etc/passwd",
    "😀" * 60,
    "ß" * 101,
    "x" * 100_001,
]

control_characters = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=12
)
hostile_text = st.one_of(
    st.sampled_from(_NASTY_TEXT),
    st.text(max_size=40),
    st.tuples(st.text(max_size=8), control_characters, st.text(max_size=8)).map("".join),
    st.integers(min_value=90, max_value=5_000).map(lambda n: "é" * n),
)

_hosts = st.one_of(
    st.sampled_from(
        [
            "example.com",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "[fe80::1%25eth0]",
            "[zz]",
            "[::1",
            "::1",
            "127.0.0.1",
            "0x7f.1",
            "169.254.169.254",
            "xn--80ak6aa92e.com",
            "пример.рф",
            "a" * 300 + ".com",
            "",
            " ",
        ]
    ),
    st.text(alphabet=string.ascii_lowercase + string.digits + ".-_", max_size=20),
)
_ports = st.one_of(
    st.just(""),
    st.integers(min_value=-(10**12), max_value=10**12).map(lambda p: f":{p}"),
    st.sampled_from([":x", ":", ":443:443", ": 443", ":٤٤٣", ":0x1bb"]),
)
_userinfo = st.sampled_from(["", "user@", "user:pass@", "a:x@", "@", "u%00@", "a@b@"])
_schemes = st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "javascript:", "//", ""])
urls = st.one_of(
    st.builds(
        lambda scheme, userinfo, host, port, path: f"{scheme}{userinfo}{host}{port}/{path}",
        _schemes,
        _userinfo,
        _hosts,
        _ports,
        st.text(max_size=12),
    ),
    hostile_text,
)

dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "0000-01-01",
            "10000-01-01",
            "-0001-01-01",
            "2026-02-30",
            "2026-13-01",
            "2026-1-1",
            "２０２６-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01\x00",
            "99999999999999999999-01-01",
        ]
    ),
    st.text(max_size=12),
)

numbers = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**20, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _nested(depth: int):
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


json_values = st.one_of(
    st.recursive(
        st.none() | st.booleans() | numbers | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=6), children, max_size=3)
        ),
        max_leaves=8,
    ),
    st.integers(min_value=50, max_value=600).map(_nested),
)

# Anything one field of a JSON body may receive.
any_json_field = st.one_of(hostile_text, urls, dates, numbers, json_values)


def _encodable(value) -> bool:
    """A browser cannot put a lone surrogate in a form or a URL: it is not UTF-8."""
    values = value if isinstance(value, list) else [value]
    return all(not any("\ud800" <= c <= "\udfff" for c in v) for v in values)


# Anything one field of a query string or an HTML form may receive (they are all text there,
# and a field may be repeated).
any_form_field = st.one_of(
    hostile_text, urls, dates, numbers.map(str), st.lists(hostile_text, min_size=2, max_size=3)
).filter(_encodable)
