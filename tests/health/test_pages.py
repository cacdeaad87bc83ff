"""The health pages as owners and auditors use them: "Check all" with its progress, "Check now"
and what the connector page then shows. The checks reach real servers on loopback."""

import re
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck, HealthRun
from tests.factories import ConnectorFactory


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def detail_url(connector) -> str:
    return reverse("connector_detail", args=[connector.organization.slug, connector.pk])


def text(response) -> str:
    """The page's words, without its tags and with spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_inventory_offers_check_all_to_owners_only(owner, auditor, org):
    ConnectorFactory(organization=org)
    url = reverse("connector_list", args=[org.slug])
    check_all = reverse("health_check_all", args=[org.slug])

    assert check_all in signed_in(owner).get(url).content.decode()
    assert check_all not in signed_in(auditor).get(url).content.decode()


def test_check_all_shows_progress_that_polls_until_the_run_is_finished(owner, org):
    ConnectorFactory.create_batch(3, organization=org)

    response = signed_in(owner).post(reverse("health_check_all", args=[org.slug]))

    run = HealthRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("health_run", args=[org.slug, run.pk])
    page = signed_in(owner).get(response["Location"])
    html = page.content.decode()
    assert "0 of 3 checked" in text(page)
    progress_url = reverse("health_run_progress", args=[org.slug, run.pk])
    assert f'hx-get="{progress_url}"' in html and 'hx-trigger="every 1s"' in html
    # Without JavaScript the page reloads itself, and says so.
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert "reloads itself every 2 seconds" in text(page)


def test_the_progress_fragment_lists_each_result_and_stops_polling_when_done(
    owner, auditor, org, peers, process_runner, eager_celery, django_capture_on_commit_callbacks
):
    healthy = ConnectorFactory(
        organization=org, name="Tracker", url=peers.stateless_json.url + "/mcp"
    )
    ConnectorFactory(organization=org, name="Old billing", url=peers.refused_url)

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(owner).post(reverse("health_check_all", args=[org.slug]))

    run = HealthRun.objects.get()
    fragment = signed_in(auditor).get(reverse("health_run_progress", args=[org.slug, run.pk]))
    words = text(fragment)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()  # a fragment, not a page
    assert "Finished: 2 of 2 checked. 1 healthy, 1 unreachable." in words
    assert "hx-trigger" not in fragment.content.decode()
    assert re.search(r"Old billing Unreachable No answer connection refused", words)
    assert re.search(r"Tracker Healthy \d+ ms demo 1\.2\.3, protocol [\d-]+, 2 tools", words)
    assert detail_url(healthy) in fragment.content.decode()


def test_check_now_goes_back_to_the_connector_page_which_follows_the_check(
    owner, org, django_capture_on_commit_callbacks
):
    connector = ConnectorFactory(organization=org)

    with django_capture_on_commit_callbacks(execute=False):
        response = signed_in(owner).post(reverse("health_check_now", args=[org.slug, connector.pk]))

    run = HealthRun.objects.get()
    assert (run.kind, run.total) == ("one", 1)
    assert response["Location"] == f"{detail_url(connector)}?run={run.pk}#health"
    page = signed_in(owner).get(f"{detail_url(connector)}?run={run.pk}")
    html = page.content.decode()
    progress_url = reverse("health_run_progress", args=[org.slug, run.pk])
    assert f'hx-get="{progress_url}?then=reload"' in html
    assert "Checking now" in text(page)
    assert '<meta http-equiv="refresh" content="2">' in html
    # While it runs the poll answers the same banner; once it is in, htmx reloads the page.
    pending = signed_in(owner).get(progress_url + "?then=reload")
    assert "HX-Refresh" not in pending and 'hx-trigger="every 1s"' in pending.content.decode()
    run.done, run.finished_at = 1, timezone.now()
    run.save()
    done = signed_in(owner).get(progress_url + "?then=reload")
    assert done["HX-Refresh"] == "true"
    assert "hx-trigger" not in done.content.decode()
    # A finished run, or another organization's, is not followed.
    assert "Checking now" not in text(signed_in(owner).get(f"{detail_url(connector)}?run={run.pk}"))


def test_after_a_check_the_connector_page_shows_what_was_found(
    owner, org, peers, process_runner, eager_celery, django_capture_on_commit_callbacks
):
    connector = ConnectorFactory(
        organization=org, url=peers.streamable.url + "/mcp", transport=Connector.Transport.AUTO
    )

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(owner).post(reverse("health_check_now", args=[org.slug, connector.pk]))

    page = signed_in(owner).get(detail_url(connector))
    words = text(page)
    assert re.search(r"Last check Healthy, now Latency \d+ ms", words)
    assert "Answered over Streamable HTTP" in words
    assert re.search(r"Protocol version [\d-]+ Server demo 1\.2\.3", words)
    assert (
        "Capabilities prompts (announces changes), resources (subscriptions, announces changes), "
        "tools (announces changes)"
    ) in words
    assert "2 found" in words
    assert "also offers prompts and resources; the API connector uses only its tools" in words
    assert "Recent checks, newest first" in words
    assert re.search(r"The last 30 days .* 1 100\.0% \d+ ms \d+ ms", words)
    # The tools found feed the owner's tool policy editor, annotations included.
    assert "search Search issues Search the issue tracker." in words
    assert "delete_issue Delete an issue for good. Can delete or overwrite" in words


def test_the_page_of_a_server_that_needs_authorization_shows_its_metadata(
    owner, org, peers, process_runner, eager_celery, django_capture_on_commit_callbacks
):
    connector = ConnectorFactory(organization=org, url=peers.protected.url + "/mcp")

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(owner).post(reverse("health_check_now", args=[org.slug, connector.pk]))

    words = text(signed_in(owner).get(detail_url(connector)))
    assert "Last check Needs authorization, now" in words
    assert "Authorization servers https://auth.example.com Scopes" in words
    assert "Scopes it supports issues:read" in words
    metadata_url = f"{peers.protected.url}/.well-known/oauth-protected-resource/mcp"
    assert f"Metadata document {metadata_url}" in words


def test_a_failing_connector_says_in_words_since_when_and_why(owner, org):
    # Two hours ago may be yesterday, which the line then names: "Down since Dec 5, 23:10".
    down_since = timezone.now() - timedelta(hours=2)
    connector = ConnectorFactory(
        organization=org,
        status=Connector.Status.DOWN,
        down_since=down_since,
        consecutive_failures=4,
        last_error="connection refused",
        last_checked_at=timezone.now(),
    )
    HealthCheck.objects.create(
        connector=connector,
        organization=org,
        checked_at=timezone.now(),
        outcome="unreachable",
        error="connection refused",
    )
    local = timezone.localtime(down_since)
    since = local.strftime("%H:%M")
    if local.date() != timezone.localdate():
        since = f"{local:%b} {local.day}, {since}"

    listing = text(signed_in(owner).get(reverse("connector_list", args=[org.slug])))
    page = text(signed_in(owner).get(detail_url(connector)))

    assert f"Down since {since} — connection refused" in listing
    assert f"Down since {since} — connection refused" in page
    assert "Last check Unreachable — connection refused, now Latency No answer" in page
    assert "Failed checks in a row 4 (it counts as down from 3)" in page


def test_an_auditor_reads_the_health_without_a_button_to_check(auditor, org):
    connector = ConnectorFactory(organization=org)

    page = signed_in(auditor).get(detail_url(connector))

    assert page.status_code == 200
    assert "Not checked yet" in text(page)
    assert reverse("health_check_now", args=[org.slug, connector.pk]) not in page.content.decode()


def test_a_run_of_another_organization_is_not_found(owner, other_org, other_owner, actor):
    from orgconnectors.health.services import health_check_all

    theirs = health_check_all(organization=other_org, actor=actor(other_owner))

    for name in ("health_run", "health_run_progress"):
        response = signed_in(owner).get(reverse(name, args=["acme", theirs]))
        assert response.status_code == 404
