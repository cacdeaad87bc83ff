"""An export as the HTTP response that carries it, the same for the pages and the API: the rows
streamed as they are read, or the file a worker wrote."""

from pathlib import Path

from django.http import FileResponse, StreamingHttpResponse

from orgconnectors.reports.export_formats import CONTENT_TYPES
from orgconnectors.reports.export_jobs import ExportRequest
from orgconnectors.reports.models import ExportJob


def streamed(export: ExportRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export.stream(), content_type=CONTENT_TYPES[export.fmt])
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def file_response(job: ExportJob, path: Path) -> FileResponse:
    day = job.created_at.date().isoformat()
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{job.organization.slug}-{job.source}-{day}.{job.format}",
        content_type=CONTENT_TYPES[job.format],
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
