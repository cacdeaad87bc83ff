"""Health check pages: "Check now" on a connector, "Check all", and the progress of a run.

The checks run on a worker after the request commits; the pages poll a small fragment with
htmx until the run is finished (without JavaScript they refresh themselves instead).
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from orgconnectors.connectors.selectors import connector_get
from orgconnectors.core.actor import Actor
from orgconnectors.health import services
from orgconnectors.health.selectors import health_run_progress
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership

Role = Membership.Role


@require_POST
@org_view(Role.OWNER)
def health_check_all(request, membership):
    organization = membership.organization
    run_id = services.health_check_all(organization=organization, actor=Actor.from_request(request))
    return redirect("health_run", slug=organization.slug, run_id=run_id)


@require_POST
@org_view(Role.OWNER)
def health_check_now(request, membership, connector_id):
    organization = membership.organization
    connector = connector_get(organization=organization, connector_id=connector_id)
    run_id = services.health_check_now(connector=connector, actor=Actor.from_request(request))
    # The page follows the run and shows its result when it is in.
    url = reverse(
        "connector_detail", kwargs={"slug": organization.slug, "connector_id": connector.pk}
    )
    return redirect(f"{url}?run={run_id}#health")


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def health_run(request, membership, run_id):
    progress = health_run_progress(organization=membership.organization, run_id=run_id)
    return render(request, "health/run.html", {"progress": progress})


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def health_run_progress_fragment(request, membership, run_id):
    progress = health_run_progress(organization=membership.organization, run_id=run_id)
    # The connector page polls with ?then=reload: once its check is in, the whole page is
    # reloaded (htmx's HX-Refresh), so the status, the details and the tools all show it.
    then_reload = request.GET.get("then") == "reload"
    if then_reload and progress.finished:
        # The reloaded page shows the result, and this message as its toast.
        level = messages.SUCCESS if progress.all_up else messages.WARNING
        messages.add_message(request, level, progress.summary)
        response = render(request, "health/_check_pending.html", {"run": progress.run})
        response["HX-Refresh"] = "true"
        return response
    template = "health/_check_pending.html" if then_reload else "health/_run_progress.html"
    # Polling stops at the first answer that is finished, so that answer alone announces it.
    context = {"progress": progress, "run": progress.run, "announce": progress.finished}
    return render(request, template, context)
