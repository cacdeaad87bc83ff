"""The daily re-reading of SAML identity providers' metadata from their URLs.

Providers roll their signing certificates over and announce it in their metadata; reading it
again each day picks up the new certificate (and a moved sign-in URL) without an owner doing
anything. Metadata that fails to read or to pass the checks never replaces the stored one: sign-in
keeps working with what was last good, and the failure is recorded in the audit trail where
owners see it.
"""

import base64
import hashlib
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.saml_metadata import (
    SamlIdpMetadata,
    SamlMetadataError,
    saml_metadata_from_stored,
    saml_metadata_read,
)

logger = logging.getLogger(__name__)

REFRESH_ACTOR = Actor.system("SAML metadata refresh")


@dataclass(frozen=True)
class RefreshResult:
    outcome: str  # "changed", "unchanged", "failed" or "skipped"
    error: str = ""


def saml_metadata_refresh_all(*, enqueue) -> int:
    """Hand each SAML sign-in configured by URL to `enqueue(sso_id=...)`; how many."""
    ids = list(
        SingleSignOn.objects.filter(protocol=SingleSignOn.Protocol.SAML)
        .exclude(metadata_url="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for sso_id in ids:
        enqueue(sso_id=sso_id)
    return len(ids)


def saml_metadata_refresh(*, sso_id: int) -> RefreshResult:
    """Read the metadata URL of this SingleSignOn again and store what it says if it is valid.

    The fetch happens outside any transaction (it may take seconds); the row is then locked and
    saved only if it still reads from the same URL, so an owner's change made meanwhile wins.
    Running it twice is harmless: the second run finds nothing changed."""
    sso = SingleSignOn.objects.filter(pk=sso_id, protocol=SingleSignOn.Protocol.SAML).first()
    if sso is None or not sso.metadata_url:
        return RefreshResult("skipped")
    url, chosen = sso.metadata_url, sso.saml_entity_id
    before = _stored(sso.metadata_xml)
    # The provider the owner chose (or the only one listed then) and no other: a federation's
    # metadata lists many, and a provider that changed its entity id is a new provider that
    # the owner must choose. Rows saved before the choice was stored follow their metadata's.
    following = chosen or (before.entity_id if before else None)
    try:
        fresh = saml_metadata_read(url=url, entity_id=following)
    except SamlMetadataError as failed:
        return _record_failure(sso_id=sso_id, url=url, chosen=chosen, error=failed.message)
    with transaction.atomic():
        sso = (
            SingleSignOn.objects.select_for_update()
            .select_related("organization")
            .filter(
                pk=sso_id,
                protocol=SingleSignOn.Protocol.SAML,
                metadata_url=url,
                saml_entity_id=chosen,
            )
            .first()
        )
        if sso is None:
            return RefreshResult("skipped")  # changed by an owner while we were reading
        before = _stored(sso.metadata_xml)
        changes = _changes(before, fresh)
        sso.metadata_xml = fresh.xml
        sso.metadata_fetched_at = timezone.now()
        sso.saml_entity_id = fresh.entity_id
        sso.save(
            update_fields=["metadata_xml", "metadata_fetched_at", "saml_entity_id", "updated_at"]
        )
        if changes:
            audit_record(
                organization=sso.organization,
                actor=REFRESH_ACTOR,
                action="sso.metadata_refreshed",
                target=sso,
                changes=changes,
            )
    return RefreshResult("changed" if changes else "unchanged")


def _record_failure(*, sso_id: int, url: str, chosen: str, error: str) -> RefreshResult:
    # There is no column for the last error (the model holds no such field): the audit trail
    # is where owners read it, next to the refreshes that succeeded.
    logger.warning("SAML metadata refresh of single sign-on %s failed: %s", sso_id, error)
    with transaction.atomic():
        sso = (
            SingleSignOn.objects.select_related("organization")
            .filter(
                pk=sso_id,
                protocol=SingleSignOn.Protocol.SAML,
                metadata_url=url,
                saml_entity_id=chosen,
            )
            .first()
        )
        if sso is None:
            return RefreshResult("skipped")
        changes = {"metadata_url": url, "error": error}
        if chosen:
            changes["saml_entity_id"] = chosen
        audit_record(
            organization=sso.organization,
            actor=REFRESH_ACTOR,
            action="sso.metadata_refresh_failed",
            target=sso,
            changes=changes,
        )
    return RefreshResult("failed", error)


def _stored(xml: str) -> SamlIdpMetadata | None:
    if not xml:
        return None
    try:
        return saml_metadata_from_stored(xml)
    except SamlMetadataError:
        return None  # stored before today's checks: any valid fresh metadata replaces it


def _fingerprint(cert: str) -> str:
    return hashlib.sha256(base64.b64decode(cert)).hexdigest()[:16]


def _changes(before: SamlIdpMetadata | None, after: SamlIdpMetadata) -> dict:
    """What an owner needs to see changed: the provider's identity, URLs and certificates (by
    fingerprint), as {field: [before, after]}; empty when none did."""

    def summary(metadata: SamlIdpMetadata | None) -> dict:
        if metadata is None:
            return {}
        return {
            "entity_id": metadata.entity_id,
            "sso_url": metadata.sso_url,
            "slo_url": metadata.slo_url,
            "certificates": [_fingerprint(c) for c in metadata.x509_certs],
        }

    old, new = summary(before), summary(after)
    return {key: [old.get(key), new[key]] for key in new if old.get(key) != new[key]}
