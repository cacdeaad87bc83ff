"""An organization's settings, changed by one service: whether it requires zero data retention,
whether owners and auditors must sign in with a second factor, and (Enterprise) how many days it
keeps its audit and usage events, and its tool governance (what members get when a connector's
server changes its tools). Each change is audited in the transaction that makes it.

Owners change the two-factor, zero data retention and tool governance settings on the Plan
page; the operator sets the retention (`manage.py set_audit_retention`). Who may call is the
caller's to check.
"""

from django.db import transaction

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.organizations.errors import RetentionError, SettingInvalid
from orgconnectors.organizations.membership_signals import membership_mfa_required
from orgconnectors.organizations.mfa import REQUIRING_ROLES
from orgconnectors.organizations.mfa_notice import mfa_requirement_notify_and_end_sessions
from orgconnectors.organizations.models import Membership, Organization

# Ten years: beyond that a trail belongs in an archive, not in the working database.
MAX_RETENTION_DAYS = 3650

# An argument left out keeps the setting as it is (None is a value: the plan's retention).
_UNSET = object()


def _check_retention(organization: Organization, days: int | None) -> None:
    plan = organization.plan
    if not plan.allows_limit_override:
        raise RetentionError(
            f"The {plan.name} plan keeps events for {plan.audit_retention_days} days; only "
            "Enterprise organizations set their own retention. Change the plan first.",
            field="days",
        )
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise RetentionError(f"Choose between 1 and {MAX_RETENTION_DAYS} days.", field="days")


def _change(
    organization: Organization, actor: Actor, *, action: str, field: str, value, shown: str = ""
) -> None:
    """Save one setting that differs from the stored value, and record it; the trail shows
    `shown` when it is not the field itself (the retention in force, not the override)."""
    shown = shown or field
    before = getattr(organization, shown)
    setattr(organization, field, value)
    organization.save(update_fields=[field])
    audit_record(
        organization=organization,
        actor=actor,
        action=action,
        target=organization,
        changes={field: {"before": before, "after": getattr(organization, shown)}},
    )


def _require_two_factor(organization: Organization, actor: Actor, keep_session_key: str) -> None:
    # Their API tokens in the organization are revoked (through the api app, audited) and, after
    # commit, they are told by email and their sessions without a second factor end.
    affected = list(
        organization.memberships.filter(role__in=REQUIRING_ROLES).select_related("user")
    )
    for membership in affected:
        membership_mfa_required.send(sender=Membership, membership=membership, actor=actor)
    mfa_requirement_notify_and_end_sessions(
        organization=organization,
        users=[m.user for m in affected],
        keep_session_key=keep_session_key,
    )


def _tool_governance(organization: Organization, actor: Actor, **wanted) -> list[str]:
    """Save the tool governance settings given that differ; one audit event for all of them."""
    given = {name: value for name, value in wanted.items() if value is not _UNSET}
    if "changed_tools" in given and given["changed_tools"] not in Organization.ChangedTools.values:
        choices = " or ".join(f"“{c}”" for c in Organization.ChangedTools.values)
        raise SettingInvalid(f"Choose {choices}.", field="changed_tools")
    changes = {
        name: {"before": getattr(organization, name), "after": value}
        for name, value in given.items()
        if getattr(organization, name) != value
    }
    if not changes:
        return []
    for name, change in changes.items():
        setattr(organization, name, change["after"])
    organization.save(update_fields=list(changes))
    audit_record(
        organization=organization,
        actor=actor,
        action="organization.tool_governance_changed",
        target=organization,
        changes=changes,
    )
    return list(changes)


@retry_on_conflict
def organization_settings_update(
    *,
    organization: Organization,
    actor: Actor,
    zero_data_retention=_UNSET,
    require_two_factor=_UNSET,
    audit_retention_days=_UNSET,
    review_new_connector_tools=_UNSET,
    changed_tools=_UNSET,
    block_new_destructive_tools=_UNSET,
    member_apps_reach=_UNSET,
    keep_session_key: str = "",
) -> Organization:
    """Change the settings given; returns the organization (and updates the one passed in).

    - `zero_data_retention` (bool): when on, owners confirm at each connector registration that
      MCP connector traffic is not covered by it.
    - `require_two_factor` (bool): owners and auditors must sign in with a second factor; the
      views check the role and the session. Turning it on revokes their API tokens in the
      organization and ends their sessions that did not pass a second factor, except
      `keep_session_key` (the session of the person turning it on, whom the pages then ask to
      confirm).
    - `audit_retention_days` (int, or None for the plan's): Enterprise organizations only.
    - Tool governance (connectors/tool_review.py), audited together as one
      `organization.tool_governance_changed`: `review_new_connector_tools` (bool: even a new
      connector's first listing waits for an owner), `changed_tools` (Organization.ChangedTools:
      keep the approved version of a changed tool, or hold it, until reviewed) and
      `block_new_destructive_tools` (bool: new tools the server marks destructive start blocked).
    - `member_apps_reach` (`Organization.MemberAppsReach`): whether `messages-api-config` hands
      out the servers' own URLs and tokens, or the gateway's endpoints and tokens.
    """
    if member_apps_reach is not _UNSET and member_apps_reach not in Organization.MemberAppsReach:
        raise SettingInvalid(
            "Choose how members' apps reach servers: directly or through the gateway.",
            field="member_apps_reach",
        )
    with transaction.atomic():
        locked = (
            Organization.objects.select_for_update(of=("self",))
            .select_related("plan")
            .get(pk=organization.pk)
        )
        changed: list[str] = []
        if audit_retention_days is not _UNSET:
            _check_retention(locked, audit_retention_days)
            if locked.audit_retention_days != audit_retention_days:
                _change(
                    locked,
                    actor,
                    action="organization.audit_retention_changed",
                    field="audit_retention_days",
                    value=audit_retention_days,
                    shown="audit_retention",  # the days in force, the plan's without its own
                )
                changed.append("audit_retention_days")
        if (
            zero_data_retention is not _UNSET
            and locked.requires_zero_data_retention != zero_data_retention
        ):
            _change(
                locked,
                actor,
                action="organization.zero_data_retention_changed",
                field="requires_zero_data_retention",
                value=zero_data_retention,
            )
            changed.append("requires_zero_data_retention")
        if (
            require_two_factor is not _UNSET
            and locked.require_mfa_for_owners_and_auditors != require_two_factor
        ):
            _change(
                locked,
                actor,
                action="organization.mfa_requirement_changed",
                field="require_mfa_for_owners_and_auditors",
                value=require_two_factor,
            )
            changed.append("require_mfa_for_owners_and_auditors")
            if require_two_factor:
                _require_two_factor(locked, actor, keep_session_key)
        if member_apps_reach is not _UNSET and locked.member_apps_reach != member_apps_reach:
            _change(
                locked,
                actor,
                action="organization.member_apps_reach_changed",
                field="member_apps_reach",
                value=member_apps_reach,
            )
            changed.append("member_apps_reach")
        changed += _tool_governance(
            locked,
            actor,
            review_new_connector_tools=review_new_connector_tools,
            changed_tools=changed_tools,
            block_new_destructive_tools=block_new_destructive_tools,
        )
    for name in changed:
        setattr(organization, name, getattr(locked, name))
    return locked
