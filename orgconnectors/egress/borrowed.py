"""A pooled client lent to code that closes whatever it is given (the SDK's `sse_client` closes
the client its factory returns): entering it yields the pool, leaving it closes nothing."""

import httpx2


class Borrowed:
    def __init__(self, http: httpx2.AsyncClient) -> None:
        self._http = http

    async def __aenter__(self) -> httpx2.AsyncClient:
        return self._http

    async def __aexit__(self, *exc_info) -> None:
        return None
