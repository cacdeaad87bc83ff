"""The operator's key rotation pages in the admin: "Re-encrypt all secrets" after a confirmation,
and each run's progress, polled with htmx, announced once when it ends, never showing a secret."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.oauth.models import KeyRotation
from tests.oauth.secret_rows import store_secrets, stored_ciphertexts

pytestmark = pytest.mark.django_db
Status = KeyRotation.Status
TOAST = 'hx-swap-oob="beforeend:#messages"'


@pytest.fixture
def operator() -> Client:
    user = get_user_model().objects.create_superuser(email="ops@example.com", password="x-1")
    client = Client()
    client.force_login(user)
    return client


def _staff(*permissions: str) -> Client:
    user = get_user_model().objects.create_user(
        email="staff@example.com", password="x-1", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="oauth", codename__in=permissions)
    )
    client = Client()
    client.force_login(user)
    return client


def _url(view: str, *args) -> str:
    return reverse(f"admin:oauth_keyrotation_{view}", args=args)


def _progress(rotation: KeyRotation, *, was: str | None = "running") -> str:
    return _url("progress", rotation.pk) + (f"?was={was}" if was else "")


def _rotation(**fields) -> KeyRotation:
    now = timezone.now()
    values = {
        "source": KeyRotation.Source.WEB,
        "status": Status.RUNNING,
        "requested_by_label": "ops@example.com",
        "key_fingerprint": "0a1b2c3d",
        "started_at": now - timedelta(seconds=5),
        "heartbeat_at": now,
        "lease_until": now + timedelta(minutes=5),
        "rows_total": 7,
        "rows_done": 3,
        "counts": [
            {"kind": "connector client secrets", "total": 3, "done": 3},
            {"kind": "member credentials", "total": 4, "done": 0},
        ],
    }
    return KeyRotation.objects.create(**{**values, **fields})


def _finish(rotation: KeyRotation, status: str = Status.DONE, **fields) -> None:
    KeyRotation.objects.filter(pk=rotation.pk).update(
        status=status, finished_at=timezone.now(), lease_until=None, **fields
    )


def test_the_list_offers_to_re_encrypt_all_secrets(operator):
    _rotation()

    body = operator.get(_url("changelist")).content.decode()

    assert f'href="{_url("start")}"' in body
    assert "Re-encrypt all secrets" in body
    assert "3 of 7" in body


def test_the_confirmation_says_what_happens_and_the_post_starts_a_run(
    operator, owner, settings, django_capture_on_commit_callbacks
):
    store_secrets(owner)
    settings.ORGCONNECTORS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    page = operator.get(_url("start")).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator.post(_url("start"))

    assert (
        "Every stored secret (6 rows now) is rewritten under the <strong>first key</strong>" in page
    )
    assert "Member credentials: 1" in page
    assert '<form method="post">' in page and "csrfmiddlewaretoken" in page
    rotation = KeyRotation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("change", rotation.pk)
    assert rotation.status == Status.QUEUED
    assert rotation.requested_by_label == "ops@example.com"
    assert len(callbacks) == 1  # the worker's task, once the row is committed


def test_starting_needs_the_csrf_token(db):
    get_user_model().objects.create_superuser(email="ops@example.com", password="x-1")
    browser = Client(enforce_csrf_checks=True)
    browser.login(email="ops@example.com", password="x-1")

    assert browser.post(_url("start")).status_code == 403
    assert not KeyRotation.objects.exists()


def test_a_second_start_is_refused_with_a_sentence_naming_the_running_one(operator):
    running = _rotation()

    page = operator.get(_url("start")).content.decode()
    response = operator.post(_url("start"), follow=True)

    assert f"Key rotation #{running.pk} is running" in page and " disabled>" in page
    assert response.redirect_chain == [(_url("changelist"), 302)]
    assert f"Key rotation #{running.pk} is running (asked for by ops@example.com" in (
        response.content.decode()
    )
    assert KeyRotation.objects.count() == 1


def test_the_run_page_shows_the_progress_and_polls_while_it_goes_on(operator):
    rotation = _rotation()

    body = operator.get(_url("change", rotation.pk)).content.decode()

    assert "<strong>Re-encrypting.</strong>" in body
    assert "<strong>3 of 7 secrets re-encrypted.</strong>" in body
    assert '<progress max="100" value="42" aria-label="Secrets re-encrypted">' in body
    assert "<td>3 of 3</td>" in body and "<td>0 of 4</td>" in body
    assert f'hx-get="{_progress(rotation)}" hx-trigger="every 1s"' in body
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in body
    assert '<div id="messages" class="toasts" role="status" aria-live="polite">' in body
    assert "js/htmx.min.js" in body
    assert '<time datetime="' in body  # times relative, exact on hover
    assert TOAST not in body


def test_a_finished_run_page_stops_polling(operator):
    rotation = _rotation()
    _finish(rotation, rows_done=7)

    body = operator.get(_url("change", rotation.pk)).content.decode()

    assert "<strong>Done.</strong>" in body
    assert "<strong>7 of 7 secrets re-encrypted.</strong>" in body
    assert "hx-get" not in body and "http-equiv" not in body
    assert TOAST not in body


def test_a_stalled_run_says_its_worker_probably_stopped(operator):
    rotation = _rotation(lease_until=timezone.now() - timedelta(seconds=1))

    body = operator.get(_url("change", rotation.pk)).content.decode()

    assert "its worker has probably stopped" in body
    assert "Starting a new rotation takes its place." in body


def test_the_toast_appears_only_on_the_poll_that_sees_the_end(operator):
    rotation = _rotation()

    while_running = operator.get(_progress(rotation)).content.decode()
    _finish(rotation, rows_done=7)
    at_the_end = operator.get(_progress(rotation)).content.decode()
    reloaded = operator.get(_progress(rotation, was=None)).content.decode()

    assert TOAST not in while_running and "?was=running" in while_running
    assert TOAST in at_the_end and "hx-get" not in at_the_end
    assert 'class="toast toast--success">The key rotation is done' in at_the_end
    assert TOAST not in reloaded


def test_a_failed_run_is_announced_as_an_error_with_its_sentence(operator):
    rotation = _rotation()
    _finish(rotation, Status.FAILED, error="Stopped: member credentials #4 cannot be decrypted.")

    body = operator.get(_progress(rotation)).content.decode()

    assert "<strong>Failed.</strong>" in body
    assert "Stopped: member credentials #4 cannot be decrypted." in body
    assert 'class="toast toast--error">The key rotation failed; this page says why.' in body


def test_the_progress_costs_three_queries(operator, django_assert_num_queries):
    rotation = _rotation()
    operator.get(_progress(rotation))  # warm up (the session is read the same way each time)

    # 1. the session, 2. the signed-in user, 3. the run.
    with django_assert_num_queries(3):
        response = operator.get(_progress(rotation))

    assert response.status_code == 200


def test_an_unknown_run_is_404(operator):
    assert operator.get(_url("change", 999999)).status_code == 404
    assert operator.get(_url("progress", 999999)).status_code == 404
    assert operator.get(_url("progress", "x")).status_code == 404


def test_a_member_who_is_not_staff_is_sent_to_the_admin_login(member):
    rotation = _rotation()
    browser = Client()
    browser.force_login(member.user)

    for url in (_url("changelist"), _url("start"), _url("change", rotation.pk)):
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    assert browser.post(_url("start")).status_code == 302
    assert browser.get(_progress(rotation)).status_code == 302
    assert KeyRotation.objects.count() == 1


def test_staff_without_permission_gets_403(db):
    rotation = _rotation()
    browser = _staff()

    for url in (
        _url("changelist"),
        _url("start"),
        _url("change", rotation.pk),
        _progress(rotation),
    ):
        assert browser.get(url).status_code == 403, url
    assert browser.post(_url("start")).status_code == 403


def test_staff_who_may_only_view_follow_runs_but_cannot_start_one(db):
    rotation = _rotation()
    browser = _staff("view_keyrotation")

    assert "Re-encrypt all secrets" not in browser.get(_url("changelist")).content.decode()
    assert browser.get(_url("change", rotation.pk)).status_code == 200
    assert browser.get(_progress(rotation)).status_code == 200
    assert browser.get(_url("start")).status_code == 403
    assert browser.post(_url("start")).status_code == 403
    assert KeyRotation.objects.count() == 1


def test_no_page_shows_a_secret_or_a_key(
    operator, owner, settings, django_capture_on_commit_callbacks
):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ORGCONNECTORS_ENCRYPTION_KEYS = [old_key]
    secrets = store_secrets(owner) | stored_ciphertexts() | {old_key, new_key}
    settings.ORGCONNECTORS_ENCRYPTION_KEYS = [new_key, old_key]
    with django_capture_on_commit_callbacks(execute=True):
        operator.post(_url("start"))
    rotation = KeyRotation.objects.get()
    assert rotation.status == Status.DONE
    secrets |= stored_ciphertexts()

    pages = [_url("changelist"), _url("start"), _url("change", rotation.pk), _progress(rotation)]
    for page in pages:
        response = operator.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert [secret for secret in secrets if secret in body] == [], page
