"""Export jobs as the worker leaves them, for tests that need one to look at or download."""

from orgconnectors.reports.export_jobs import export_job_run
from orgconnectors.reports.models import ExportJob


def finished_export(membership, *, source: str = "audit", fmt: str = "csv", filters=None):
    """A job asked for by `membership` and written (to settings.ORGCONNECTORS_EXPORT_DIR)."""
    job = ExportJob.objects.create(
        organization=membership.organization,
        requested_by=membership.user,
        source=source,
        format=fmt,
        filters=filters or {},
    )
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job
