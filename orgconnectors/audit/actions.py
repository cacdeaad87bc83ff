"""Every action the audit trail records, registered once with its outcome and the words an
auditor reads (as sentry's audit-log event registry and zulip's AuditLogEventType do).

`audit_record` refuses a name that is not here, so a new action is added here first; names are
stored in every event and filtered on, so a registered name is never renamed or removed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.db import models


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Succeeded"
    FAILURE = "failure", "Failed"
    REFUSED = "refused", "Refused"


@dataclass(frozen=True)
class AuditAction:
    name: str
    label: str
    outcome: AuditOutcome = AuditOutcome.SUCCESS


class UnregisteredAuditAction(LookupError):
    pass


def _registry(*actions: AuditAction) -> Mapping[str, AuditAction]:
    registry: dict[str, AuditAction] = {}
    for action in actions:
        if action.name in registry:
            raise ValueError(f"the audit action {action.name!r} is registered twice")
        registry[action.name] = action
    return MappingProxyType(registry)


_FAILURE, _REFUSED = AuditOutcome.FAILURE, AuditOutcome.REFUSED

ACTIONS = _registry(
    # The organization
    AuditAction("organization.created", "Organization created"),
    AuditAction("organization.plan_changed", "Plan changed"),
    AuditAction("organization.audit_retention_changed", "Audit retention changed"),
    AuditAction("organization.mfa_requirement_changed", "Two-factor requirement changed"),
    AuditAction(
        "organization.zero_data_retention_changed", "Zero data retention requirement changed"
    ),
    AuditAction(
        "organization.member_apps_reach_changed",
        "How members' apps reach servers changed (directly or through the gateway)",
    ),
    AuditAction("plan_change.requested", "Plan change requested"),
    AuditAction("plan_change.declined", "Plan change request declined"),
    # People
    AuditAction("invitation.created", "Person invited"),
    AuditAction("invitation.revoked", "Invitation revoked"),
    AuditAction("invitation.accepted", "Invitation accepted"),
    AuditAction("membership.added", "Member added"),
    AuditAction("membership.role_changed", "Member's role changed"),
    AuditAction("membership.approver_changed", "Member named or no longer named an approver"),
    AuditAction("membership.removed", "Member removed"),
    AuditAction("api_token.created", "API token created"),
    AuditAction("api_token.revoked", "API token revoked"),
    AuditAction("scim_token.created", "SCIM token created"),
    AuditAction("scim_token.revoked", "SCIM token revoked"),
    AuditAction("scim.user_provisioned", "Person provisioned by SCIM"),
    AuditAction("scim.user_updated", "Person updated by SCIM"),
    AuditAction("scim.user_deactivated", "Person deactivated by SCIM"),
    AuditAction("scim.user_reactivated", "Person reactivated by SCIM"),
    AuditAction("scim.user_deleted", "Person deprovisioned by SCIM"),
    AuditAction("scim.group_provisioned", "Group provisioned by SCIM"),
    AuditAction("scim.group_updated", "Group updated by SCIM"),
    AuditAction("scim.group_deleted", "Group deleted by SCIM"),
    AuditAction("scim.group_role_changed", "Group's role changed"),
    AuditAction("sso.configured", "Single sign-on configured"),
    AuditAction("sso.removed", "Single sign-on removed"),
    AuditAction("sso.signed_in", "Signed in through single sign-on"),
    AuditAction("membership.joined_by_sso", "Joined at first single sign-on"),
    # Claimed email domains and required single sign-on
    AuditAction("domain.claimed", "Email domain claimed"),
    AuditAction("domain.verified", "Email domain verified"),
    AuditAction("domain.released", "Email domain released"),
    AuditAction("sso.required_on", "Single sign-on required"),
    AuditAction("sso.required_off", "Single sign-on no longer required"),
    AuditAction("sso.break_glass_issued", "Break-glass sign-in link issued"),
    AuditAction("sso.break_glass_used", "Signed in with a break-glass link"),
    AuditAction("group.created", "Group made in the dashboard"),
    AuditAction("group.renamed", "Group renamed"),
    AuditAction("group.deleted", "Group deleted"),
    AuditAction("group.members_added", "People added to a group"),
    AuditAction("group.members_removed", "People removed from a group"),
    # Single sign-on: the daily re-reading of a SAML identity provider's metadata.
    AuditAction("sso.metadata_refreshed", "Identity provider's SAML metadata changed"),
    AuditAction(
        "sso.metadata_refresh_failed",
        "Identity provider's SAML metadata could not be read",
        _FAILURE,
    ),
    # Connectors and members' connections
    AuditAction("connector.registered", "Connector registered"),
    AuditAction("connector.updated", "Connector edited"),
    AuditAction("connector.removed", "Connector removed"),
    AuditAction("connector.tool_policy_changed", "Tool policy changed"),
    AuditAction("connector.access_changed", "Who may connect changed"),
    AuditAction("quota.set", "Tool-call quota set"),
    AuditAction("quota.removed", "Tool-call quota removed"),
    AuditAction("connector.paused", "Connector paused for everyone"),
    AuditAction("connector.resumed", "Connector resumed"),
    AuditAction("gateway.session_ended", "Member's gateway session ended"),
    AuditAction("connector.tool_approval_changed", "Tool's approval requirement changed"),
    AuditAction("organization.approval_timeout_changed", "Approval timeout changed"),
    AuditAction("tool_call.approval_requested", "Tool call waiting for approval"),
    AuditAction("tool_call.approved", "Tool call approved"),
    AuditAction("tool_call.approval_denied", "Tool call denied", _REFUSED),
    AuditAction("tool_call.timeout_refused", "Tool call refused: no answer in time", _REFUSED),
    AuditAction("connector.tools_changed", "Connector's tools changed"),
    AuditAction("connector.tools_drifted", "Connector's tools changed from the approved listing"),
    AuditAction("connector.tools_approved", "Connector's tool listing approved"),
    AuditAction("connector.tools_blocked", "Connector's tools reviewed and blocked"),
    AuditAction("organization.tool_governance_changed", "Tool governance settings changed"),
    AuditAction("organization.tool_call_bodies_changed", "Keeping tool-call bodies changed"),
    AuditAction("connector.health_changed", "Connector's health changed"),
    AuditAction("connection.enabled", "Member connected"),
    AuditAction("connection.disabled", "Member disconnected"),
    AuditAction("messages_api.token_revealed", "Access tokens shown in an API configuration"),
    # OAuth
    AuditAction("oauth.client_registered", "OAuth client registered"),
    AuditAction("oauth.client_issuer_pinned", "Authorization server pinned at first use"),
    AuditAction("oauth.client_issuer_changed", "New authorization server awaits an owner"),
    AuditAction("oauth.client_issuer_confirmed", "Authorization server confirmed"),
    AuditAction("oauth.authorized", "Member authorized"),
    AuditAction("oauth.authorization_refused", "Authorization refused", _REFUSED),
    AuditAction("oauth.step_up_requested", "More access requested"),
    AuditAction("oauth.step_up_refused", "More access refused", _REFUSED),
    AuditAction("oauth.refreshed", "Token refreshed"),
    AuditAction("oauth.refresh_failed", "Token refresh failed", _FAILURE),
    AuditAction("oauth.revoked", "Tokens revoked at the server"),
    AuditAction("oauth.revoke_failed", "Token revocation failed", _FAILURE),
    # The trail itself
    AuditAction("audit.exported", "Audit trail exported"),
    AuditAction("usage.exported", "Usage events exported"),
    AuditAction("audit.digest_published", "Signed digest published"),
    AuditAction("audit.purged", "Events past retention purged"),
)


def audit_action(name: str) -> AuditAction:
    try:
        return ACTIONS[name]
    except KeyError:
        raise UnregisteredAuditAction(
            f"{name!r} is not a registered audit action; add it to orgconnectors/audit/actions.py."
        ) from None


def audit_action_label(name: str) -> str:
    """What an auditor reads for a stored action; a name recorded before the registry knew it
    reads as itself."""
    action = ACTIONS.get(name)
    return action.label if action else name
