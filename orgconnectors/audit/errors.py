from orgconnectors.core.errors import ServiceError


class AuditError(ServiceError):
    pass
