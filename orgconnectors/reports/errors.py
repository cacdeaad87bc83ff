from orgconnectors.core.errors import ServiceError


class ReportError(ServiceError):
    pass


class ExportError(ReportError):
    code = "export_invalid"


class ExportGone(ReportError):
    """The export's file was removed after its 24 hours, or never written."""

    status = 410
    code = "export_gone"
