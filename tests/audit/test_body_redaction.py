"""What a kept tool-call body hides: values under secret-named keys, and credentials wherever
they stand in text."""

from hypothesis import given
from hypothesis import strategies as st

from orgconnectors.audit.body_redaction import MAX_BODY_CHARS, kept_body, redacted


def test_values_under_secret_keys_are_replaced_whole():
    body = {"user": "ada", "password": "hunter2", "nested": {"API_KEY": "x1", "Authorization": "b"}}

    assert redacted(body) == {
        "user": "ada",
        "password": "[redacted]",
        "nested": {"API_KEY": "[redacted]", "Authorization": "[redacted]"},
    }


def test_credentials_in_text_are_replaced_where_they_stand():
    text = (
        "use Bearer abcdefghijklmnop1234 or sk-ant-abcdefghijklmnopqrstu, token "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ24 at "
        "https://ada:s3cret@example.com/x and AKIAABCDEFGHIJKLMNOP"
    )

    clean = redacted({"note": text})["note"]

    for secret in ("abcdefghijklmnop1234", "sk-ant-", "eyJhbGci", "s3cret", "AKIAABCD"):
        assert secret not in clean
    assert clean.startswith("use ")
    assert "example.com/x" in clean


def test_a_body_too_large_to_keep_whole_keeps_its_beginning_and_says_so():
    kept = kept_body({"text": "a" * (MAX_BODY_CHARS * 2)})

    assert kept["truncated"] is True
    assert kept["chars"] > MAX_BODY_CHARS
    assert len(kept["beginning"]) == MAX_BODY_CHARS


@given(st.recursive(st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_redacting_keeps_the_shape_of_any_json_value(value):
    clean = redacted(value)

    assert type(clean) is type(value)
    assert redacted(clean) == clean
