"""The body of any test client response as text, streamed ones (exports, downloads) included."""


def text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()
