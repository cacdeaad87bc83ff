from orgconnectors.core.errors import ServiceError


class ConnectorError(ServiceError):
    pass


class ConnectionLimitReached(ServiceError):
    status = 409
    code = "connection_limit_reached"

    def __init__(self, message: str, *, limit: int, enabled: list[int]):
        super().__init__(message)
        self.limit = limit
        self.enabled = enabled
