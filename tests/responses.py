"""The body of any test client response as text, streamed ones (exports, downloads) included."""


def text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# Every error of the JSON API has these keys (orgconnectors/api/errors.py); a few codes add more.
ERROR_KEYS = {"code", "detail", "errors"}
NOT_FOUND = {"code": "not_found", "detail": "Not found", "errors": {"__all__": ["Not found"]}}


def api_error(response) -> dict:
    """The body of a JSON API error, checked to have the one shape every error has."""
    body = response.json()
    assert ERROR_KEYS <= set(body), body
    return body
