"""An export prepared by a worker: its progress, then its file for 24 hours."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership
from orgconnectors.reports.errors import ExportGone
from orgconnectors.reports.export_jobs import export_file, export_job_get
from orgconnectors.reports.export_responses import file_response
from orgconnectors.reports.models import ExportJob

Role = Membership.Role
FINISHED = {ExportJob.Status.DONE, ExportJob.Status.FAILED}


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def export_detail(request, membership, job_id):
    """The export's progress; htmx asks for the progress part again every second."""
    job = export_job_get(membership=membership, job_id=job_id)
    if not request.headers.get("HX-Request"):
        return render(request, "audit/export_detail.html", {"job": job})
    # Polling stops at the first answer that is finished, so that answer alone announces it.
    context = {"job": job, "announce": job.status in FINISHED}
    return render(request, "audit/_export_progress.html", context)


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def export_download(request, membership, job_id):
    job = export_job_get(membership=membership, job_id=job_id)
    try:
        path = export_file(job)
    except ExportGone as gone:
        return render(request, "audit/export_gone.html", {"job": job, "message": gone.message},
                      status=410)  # fmt: skip
    return file_response(job, path)
