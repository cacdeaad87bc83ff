"""The daily re-reading of a SAML identity provider's metadata: a new certificate is stored and
audited once; metadata that cannot be read or used never replaces what works."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from orgconnectors.audit.models import AuditEvent
from orgconnectors.celery import app
from orgconnectors.identity import tasks
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.saml_metadata import saml_metadata_read
from orgconnectors.identity.saml_refresh import saml_metadata_refresh
from tests.factories import OrganizationFactory
from tests.identity.saml import metadata_documents as docs
from tests.peers.saml_idp import make_key_and_certificate


def metadata(certificate: str, sso_url: str = "https://idp.example.com/sso") -> bytes:
    return docs.document(
        docs.entity(
            "https://idp.example.com",
            keys=[docs.key_descriptor(certificate)],
            sso=[(docs.REDIRECT, sso_url)],
        )
    ).encode()


@pytest.fixture
def certificates(tmp_path: Path) -> tuple[str, str]:
    return (
        make_key_and_certificate(tmp_path, "old")[2],
        make_key_and_certificate(tmp_path, "new")[2],
    )


@pytest.fixture
def sso(org, saml_idp, certificates):
    url = saml_idp.serve("idp.xml", metadata(certificates[0]))
    return SingleSignOn.objects.create(
        organization=org,
        protocol=SingleSignOn.Protocol.SAML,
        metadata_url=url,
        metadata_xml=saml_metadata_read(url=url).xml,
    )


def events(org, action: str):
    return list(AuditEvent.objects.filter(organization=org, action=action))


def test_a_new_certificate_is_stored_and_audited_once(sso, saml_idp, certificates, org):
    saml_idp.serve("idp.xml", metadata(certificates[1]))

    first = saml_metadata_refresh(sso_id=sso.pk)
    second = saml_metadata_refresh(sso_id=sso.pk)

    sso.refresh_from_db()
    assert (first.outcome, second.outcome) == ("changed", "unchanged")
    assert saml_metadata_read(xml=sso.metadata_xml).x509_certs == (certificates[1],)
    assert sso.metadata_fetched_at is not None
    [event] = events(org, "sso.metadata_refreshed")
    assert event.actor_label == "SAML metadata refresh"
    assert list(event.changes) == ["certificates"]


def test_unchanged_metadata_is_not_audited(sso, org):
    assert saml_metadata_refresh(sso_id=sso.pk).outcome == "unchanged"

    assert events(org, "sso.metadata_refreshed") == []


def test_metadata_that_cannot_be_used_keeps_the_old_and_records_why(sso, saml_idp, org):
    stored = sso.metadata_xml
    saml_idp.serve("idp.xml", b"<html>maintenance</html>")

    result = saml_metadata_refresh(sso_id=sso.pk)

    sso.refresh_from_db()
    assert result.outcome == "failed"
    assert sso.metadata_xml == stored
    [event] = events(org, "sso.metadata_refresh_failed")
    assert event.outcome == "failure"
    assert event.changes["error"].startswith("The document is XML but not SAML metadata")
    assert events(org, "sso.metadata_refreshed") == []


def test_an_identity_provider_out_of_reach_keeps_the_old_metadata(sso, saml_idp, org):
    stored = sso.metadata_xml
    saml_idp.stop()

    result = saml_metadata_refresh(sso_id=sso.pk)

    sso.refresh_from_db()
    assert result.outcome == "failed"
    assert result.error.startswith("The metadata could not be fetched from")
    assert sso.metadata_xml == stored


def test_pasted_metadata_and_openid_connect_are_left_alone(org, certificates, eager_celery):
    pasted = SingleSignOn.objects.create(
        organization=org,
        protocol=SingleSignOn.Protocol.SAML,
        metadata_xml=metadata(certificates[0]).decode(),
    )
    oidc = SingleSignOn.objects.create(
        organization=OrganizationFactory(slug="initech"),
        protocol=SingleSignOn.Protocol.OIDC,
        issuer="https://login.example.com",
    )

    assert saml_metadata_refresh(sso_id=pasted.pk).outcome == "skipped"
    assert saml_metadata_refresh(sso_id=oidc.pk).outcome == "skipped"
    assert tasks.saml_metadata_refresh_all.delay().get() == 0


def test_the_daily_task_refreshes_each_saml_sign_in_read_from_a_url(
    sso, saml_idp, certificates, eager_celery
):
    saml_idp.serve("idp.xml", metadata(certificates[1], sso_url="https://idp.example.com/new"))

    assert tasks.saml_metadata_refresh_all.delay().get() == 1

    sso.refresh_from_db()
    assert saml_metadata_read(xml=sso.metadata_xml).sso_url == "https://idp.example.com/new"


def test_the_refresh_runs_daily_from_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["identity-saml-metadata-refresh"]

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {4} and entry["schedule"].minute == {17}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_owners_change_made_during_the_fetch_is_kept(saml_idp, certificates):
    # The change is made in the IdP's thread, on its own connection: it must see committed rows
    # (transaction=True; serialized_rollback gives later tests the data migration's plans back).
    org = OrganizationFactory(slug="acme")
    url = saml_idp.serve("idp.xml", metadata(certificates[0]))
    sso = SingleSignOn.objects.create(
        organization=org,
        protocol=SingleSignOn.Protocol.SAML,
        metadata_url=url,
        metadata_xml=saml_metadata_read(url=url).xml,
    )
    pasted = metadata(certificates[1]).decode()

    def owner_pastes_other_metadata():
        # Another request, committed while the refresh waits for the identity provider.
        SingleSignOn.objects.filter(pk=sso.pk).update(metadata_url="", metadata_xml=pasted)
        connection.close()

    saml_idp.while_serving = owner_pastes_other_metadata

    assert saml_metadata_refresh(sso_id=sso.pk).outcome == "skipped"

    sso.refresh_from_db()
    assert (sso.metadata_url, sso.metadata_xml) == ("", pasted)
