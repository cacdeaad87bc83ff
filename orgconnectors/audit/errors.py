from orgconnectors.core.errors import ServiceError


class AuditError(ServiceError):
    pass


class RetentionError(AuditError):
    code = "retention_invalid"


class ExportError(AuditError):
    code = "export_invalid"


class ExportGone(AuditError):
    """The export's file was removed after its 24 hours, or never written."""

    status = 410
    code = "export_gone"
