"""Break-glass sign-in while single sign-on is required: an operator, on the server, issues an
owner a one-time link (`manage.py break_glass_link ORG EMAIL --reason …`) for when the identity
provider is down or misconfigured. The link signs its owner in without a password, once, before
it expires; their second factor is still asked for."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.models import BreakGlassLink
from orgconnectors.organizations.models import Membership, Organization

DEFAULT_MINUTES = 30
MAX_MINUTES = 24 * 60


class BreakGlassRefused(ServiceError):
    """The link does not sign anyone in; `status` is the page's."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def break_glass_issue(
    *,
    organization: Organization,
    email: str,
    reason: str,
    operator: Actor,
    minutes: int = DEFAULT_MINUTES,
) -> tuple[BreakGlassLink, str]:
    """A new link for an owner of `organization`, and its token (shown once, stored hashed)."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise ServiceError("Say why the link is issued (at most 300 characters).", field="reason")
    if not 1 <= minutes <= MAX_MINUTES:
        raise ServiceError(f"A link lasts between 1 and {MAX_MINUTES} minutes.", field="minutes")
    user = get_user_model().objects.filter(email__iexact=(email or "").strip()).first()
    if (
        user is None
        or not Membership.objects.filter(
            organization=organization, user=user, role=Membership.Role.OWNER
        ).exists()
    ):
        raise ServiceError(
            f"{email} is not an owner of {organization.name}: break-glass links are for owners "
            "only.",
            field="email",
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = BreakGlassLink.objects.create(
            organization=organization,
            user=user,
            token_hash=_hash(token),
            issued_by=operator.display[:150],
            reason=reason,
            expires_at=timezone.now() + timedelta(minutes=minutes),
        )
        audit_record(
            organization=organization,
            actor=operator,
            action="sso.break_glass_issued",
            target=link,
            changes={"reason": reason, "minutes": minutes, "email": user.email},
        )
    return link, token


def _links(token: str):
    return BreakGlassLink.objects.select_related("organization", "user").filter(
        token_hash=_hash(token or "")
    )


def _usable(link: BreakGlassLink | None) -> BreakGlassLink:
    if link is None:
        raise BreakGlassRefused("This sign-in link is not valid.", status=400)
    if link.used_at is not None:
        raise BreakGlassRefused(
            "This sign-in link has been used already; each link works once. Ask the operator "
            "for a new one.",
            status=410,
        )
    if link.expires_at <= timezone.now():
        raise BreakGlassRefused(
            "This sign-in link has expired. Ask the operator for a new one.", status=410
        )
    return link


def break_glass_find(*, token: str) -> BreakGlassLink:
    """The link behind `token`, still usable; refused with the page's status otherwise."""
    return _usable(_links(token).first())


def break_glass_use(*, token: str, actor: Actor) -> BreakGlassLink:
    """Spend the link (once: the row is locked, then marked used) and audit it; the caller signs
    its person in after this commits."""
    with transaction.atomic():
        link = _usable(_links(token).select_for_update(of=("self",)).first())
        if not Membership.objects.filter(
            organization=link.organization, user=link.user, role=Membership.Role.OWNER
        ).exists():
            raise BreakGlassRefused(
                f"This link was for an owner of {link.organization.name}, which its person no "
                "longer is.",
                status=403,
            )
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        audit_record(
            organization=link.organization,
            actor=Actor(user=link.user, ip=actor.ip, user_agent=actor.user_agent),
            action="sso.break_glass_used",
            target=link,
            changes={"reason": link.reason, "issued_by": link.issued_by},
        )
    return link
