"""The email domains an organization claims. A claim is proven by a TXT record the owners publish
(looked up through the egress module's resolver) or by an operator in the admin; a domain is
verified for one organization at most."""

import secrets
from dataclasses import dataclass

import idna
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.egress.dns_records import DnsLookupFailed, txt_records
from orgconnectors.identity.models import ClaimedDomain, SingleSignOn
from orgconnectors.organizations.models import Organization

CHALLENGE_LABEL = "_orgconnectors-challenge"
CHALLENGE_PREFIX = "orgconnectors-domain-verification="
MAX_CLAIMS = 50

# Mail providers anyone can get an address at. Nobody's organization owns their users: a claim
# would send every person with such an address to one organization's identity provider and make
# them its members at their first sign-in. A short list of the largest, not a complete one.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com",
        "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "fastmail.com", "hey.com", "qq.com",
        "163.com", "126.com", "naver.com",
    }
)  # fmt: skip
# Suffixes under which anyone registers a name (no dependency on the full Public Suffix List:
# single labels are refused anyway, these are the common two-label ones and shared hosts).
PUBLIC_SUFFIXES = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "com.au", "net.au",
        "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "co.jp", "ne.jp", "or.jp", "ac.jp",
        "com.br", "net.br", "org.br", "com.cn", "net.cn", "org.cn", "co.in", "net.in",
        "org.in", "co.za", "org.za", "com.mx", "com.ar", "com.tr", "co.kr", "or.kr", "com.sg",
        "com.hk", "com.tw", "co.il", "com.pl", "co.id", "com.my", "com.ph", "com.vn",
        "github.io", "gitlab.io", "herokuapp.com", "vercel.app", "netlify.app", "pages.dev",
        "workers.dev", "appspot.com", "azurewebsites.net", "cloudfront.net", "blogspot.com",
        "onmicrosoft.com",
    }
)  # fmt: skip


class DomainTaken(ServiceError):
    """Another organization has verified the domain; which one is not said."""

    status = 409
    code = "conflict"


class DomainNotVerified(ServiceError):
    """The DNS proof was not found; the message says what was found instead."""

    code = "not_verified"


@dataclass(frozen=True)
class TxtRecord:
    """What the owners publish in their DNS to prove a claim."""

    name: str
    value: str


def challenge_record(claimed_domain: ClaimedDomain) -> TxtRecord:
    return TxtRecord(
        name=f"{CHALLENGE_LABEL}.{claimed_domain.domain}",
        value=f"{CHALLENGE_PREFIX}{claimed_domain.verification_token}",
    )


def email_domain(text: str) -> str:
    """The domain part of an address (or the text itself without an @), lowercase, without a
    trailing dot; not yet IDNA-encoded."""
    return (text or "").strip().lower().rpartition("@")[2].rstrip(".")


def domain_normalize(raw: str) -> str:
    """The domain as stored (lowercase, IDNA-encoded, no trailing dot), or a ServiceError that
    says what is wrong with it."""
    text = email_domain(raw)
    if not text:
        raise ServiceError("Enter a domain, such as example.com.", field="domain")
    try:
        domain = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ServiceError(f"“{raw.strip()}” is not a valid domain name.", field="domain") from None
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or labels[-1].isdigit():
        raise ServiceError(
            f"“{raw.strip()}” is not a domain you can claim: give a registered name such as "
            "example.com (not an address or a top-level domain).",
            field="domain",
        )
    if domain in PUBLIC_SUFFIXES:
        raise ServiceError(
            f"{domain} is a public suffix under which anyone registers names; claim your own "
            f"domain under it instead (yourcompany.{domain}).",
            field="domain",
        )
    if domain in FREE_MAIL_DOMAINS:
        raise ServiceError(
            f"{domain} is a public mail provider: its addresses belong to people, not to one "
            "organization, so it cannot be claimed.",
            field="domain",
        )
    return domain


def domain_claim(
    *, organization: Organization, domain: str, actor: Actor
) -> tuple[ClaimedDomain, TxtRecord]:
    """A new, unverified claim and the TXT record that proves it."""
    domain = domain_normalize(domain)
    with transaction.atomic():
        # One claim at a time per organization, so the count and the duplicate check hold.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        claims = ClaimedDomain.objects.filter(organization=organization)
        if claims.filter(domain=domain).exists():
            raise ServiceError(f"You have already claimed {domain}.", field="domain")
        if claims.count() >= MAX_CLAIMS:
            raise ServiceError(
                f"An organization claims at most {MAX_CLAIMS} domains; release one first.",
                field="domain",
            )
        if ClaimedDomain.objects.filter(domain=domain, verified_at__isnull=False).exists():
            raise _taken(domain)
        claimed = ClaimedDomain.objects.create(
            organization=organization,
            domain=domain,
            verification_token=secrets.token_urlsafe(24),
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="domain.claimed",
            target=claimed,
            changes={"domain": {"before": None, "after": domain}},
        )
    return claimed, challenge_record(claimed)


def _taken(domain: str) -> DomainTaken:
    return DomainTaken(
        f"{domain} is already verified by another organization. If it is yours, ask the "
        "operator of this service to look into it.",
        field="domain",
    )


def _check_dns(claimed_domain: ClaimedDomain) -> str:
    """ "" when the record is published, else why not, in a sentence."""
    record = challenge_record(claimed_domain)
    try:
        values = txt_records(record.name)
    except DnsLookupFailed as failed:
        return str(failed)
    if record.value in values:
        return ""
    ours = [value for value in values if value.startswith(CHALLENGE_PREFIX)]
    if ours:
        return (
            f"The TXT record at {record.name} holds another token; publish “{record.value}” "
            "(the token shown for this claim)."
        )
    return f"{record.name} has no TXT record starting with “{CHALLENGE_PREFIX}”."


def domain_verify(*, claimed_domain: ClaimedDomain, actor: Actor) -> ClaimedDomain:
    """Look the TXT record up (outside any transaction: DNS may take seconds), then record the
    outcome. A domain found verified elsewhere is refused (409); a missing record is kept as the
    claim's last error and refused with it."""
    if claimed_domain.is_verified:
        return claimed_domain
    error = _check_dns(claimed_domain)
    try:
        with transaction.atomic():
            claimed = _locked(claimed_domain)
            claimed.last_checked_at = timezone.now()
            claimed.last_check_error = error[:300]
            if error or claimed.is_verified:
                claimed.save(update_fields=["last_checked_at", "last_check_error"])
            else:
                _mark_verified(claimed, ClaimedDomain.Method.DNS, actor)
    except IntegrityError:
        # Another organization's verification committed between the check and the save.
        raise _taken(claimed_domain.domain) from None
    if error:
        raise DomainNotVerified(f"{claimed.domain} is not verified yet: {error}")
    return claimed


def domain_verify_by_operator(*, claimed_domain: ClaimedDomain, operator: Actor) -> ClaimedDomain:
    """An operator vouches for the claim (the admin's "Verify (operator)")."""
    try:
        with transaction.atomic():
            claimed = _locked(claimed_domain)
            if not claimed.is_verified:
                claimed.last_check_error = ""
                _mark_verified(claimed, ClaimedDomain.Method.OPERATOR, operator)
    except IntegrityError:
        raise _taken(claimed_domain.domain) from None
    return claimed


def _locked(claimed_domain: ClaimedDomain) -> ClaimedDomain:
    claimed = ClaimedDomain.objects.select_for_update().filter(pk=claimed_domain.pk).first()
    if claimed is None:
        raise ServiceError(f"The claim on {claimed_domain.domain} was released meanwhile.")
    return claimed


def _mark_verified(claimed: ClaimedDomain, method: str, actor: Actor) -> None:
    taken = ClaimedDomain.objects.filter(domain=claimed.domain, verified_at__isnull=False)
    if taken.exclude(pk=claimed.pk).exists():
        raise _taken(claimed.domain)
    claimed.verified_at = timezone.now()
    claimed.verified_by = method
    claimed.save()
    audit_record(
        organization=claimed.organization,
        actor=actor,
        action="domain.verified",
        target=claimed,
        changes={"verified_by": {"before": None, "after": method}},
    )


def domain_release(*, claimed_domain: ClaimedDomain, actor: Actor) -> None:
    """Give the domain up: its people are no longer sent to the organization's provider."""
    with transaction.atomic():
        claimed = ClaimedDomain.objects.select_for_update().filter(pk=claimed_domain.pk).first()
        if claimed is None:
            return
        organization = claimed.organization
        if claimed.is_verified and _sso_required(organization):
            others = ClaimedDomain.objects.filter(
                organization=organization, verified_at__isnull=False
            ).exclude(pk=claimed.pk)
            if not others.exists():
                raise ServiceError(
                    f"{claimed.domain} is the organization's only verified domain and single "
                    "sign-on is required: stop requiring it first, or verify another domain."
                )
        audit_record(
            organization=organization,
            actor=actor,
            action="domain.released",
            target=claimed,
            changes={"domain": {"before": claimed.domain, "after": None}},
        )
        claimed.delete()


def _sso_required(organization: Organization) -> bool:
    return SingleSignOn.objects.filter(organization=organization, require_sso=True).exists()


def domains_of(*, organization: Organization):
    return ClaimedDomain.objects.filter(organization=organization)


def domain_get(*, organization: Organization, domain_id) -> ClaimedDomain:
    """The organization's claim, or 404 (absent and another organization's alike)."""
    claimed = ClaimedDomain.objects.filter(
        organization=organization, pk=domain_id if str(domain_id).isdigit() else 0
    ).first()
    if claimed is None:
        raise Http404("No such domain.")
    return claimed


def verified_claim_for_email(*, email: str) -> ClaimedDomain | None:
    """The verified claim on the domain of `email` (one at most), with its organization."""
    domain = email_domain(email)
    if not domain:
        return None
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    return (
        ClaimedDomain.objects.select_related("organization")
        .filter(domain=domain, verified_at__isnull=False)
        .first()
    )
