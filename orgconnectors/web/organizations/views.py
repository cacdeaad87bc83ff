"""Pages of the organization itself: where to land, members and invitations, the plan."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgconnectors.connectors.selectors import connection_usage, connections_in_use_of
from orgconnectors.core.actor import Actor
from orgconnectors.core.form_errors import add_service_error
from orgconnectors.organizations import invitations
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.errors import InvitationInvalid, OrganizationError
from orgconnectors.organizations.forms import (
    InviteForm,
    MfaRequirementForm,
    PasswordChoiceForm,
    PlanForm,
    PlanRequestForm,
    RoleForm,
    ToolGovernanceForm,
)
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.organization_settings import organization_settings_update
from orgconnectors.organizations.plan_change import plan_change_preview
from orgconnectors.organizations.plan_requests import plan_change_request_create
from orgconnectors.organizations.selectors import (
    invitation_get,
    member_get,
    members_of,
    memberships_for_user,
    owner_count,
    pending_invitations,
    pending_plan_request,
)
from orgconnectors.organizations.services import (
    membership_change_role,
    membership_remove,
)

Role = Membership.Role
_LANDING = {Role.OWNER: "connector_list", Role.MEMBER: "my_connectors", Role.AUDITOR: "audit_list"}


@require_GET
@login_required
def home(request):
    memberships = list(memberships_for_user(user=request.user))
    # Shared with the context processor, which would otherwise ask again for the switcher.
    request._all_memberships = memberships
    wanted = request.GET.get("org")
    chosen = next((m for m in memberships if m.organization.slug == wanted), None)
    if chosen is None and memberships:
        chosen = memberships[0]
    if chosen is None:
        return render(request, "organizations/no_organization.html")
    return redirect("org_home", slug=chosen.organization.slug)


@require_GET
@org_view()
def org_home(request, membership):
    return redirect(_LANDING[membership.role], slug=membership.organization.slug)


# Members and invitations


def _member_page(request, membership, *, invite_form=None, role_errors=None, status=200):
    organization = membership.organization
    context = {
        "members": members_of(organization=organization),
        "invitations": pending_invitations(organization=organization),
        "invite_form": invite_form or InviteForm(),
        "role_choices": Role.choices,
        "role_errors": role_errors or {},
        "limit": organization.max_enabled_connections,
    }
    return render(request, "organizations/member_list.html", context, status=status)


@require_GET
@org_view(Role.OWNER)
def member_list(request, membership):
    return _member_page(request, membership)


@require_POST
@org_view(Role.OWNER)
def member_invite(request, membership):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, _token = invitations.invitation_create(
                organization=membership.organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=Actor.from_request(request),
            )
        except OrganizationError as error:
            add_service_error(form, error)
        else:
            role = invitation.get_role_display().lower()
            messages.success(
                request,
                f"Invitation sent to {invitation.email} as {role}. The link works once and "
                f"expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
            )
            return redirect("member_list", slug=membership.organization.slug)
    return _member_page(request, membership, invite_form=form, status=400)


@require_POST
@org_view(Role.OWNER)
def member_role(request, membership, member_id):
    target = member_get(organization=membership.organization, member_id=member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        errors = {target.pk: "Choose owner, member or auditor."}
        return _member_page(request, membership, role_errors=errors, status=400)
    role = form.cleaned_data["role"]
    if request.POST.get("confirmed") != "yes" and role != target.role:
        # A change that takes something away is shown before it is made.
        lost = connections_in_use_of(membership=target) if role == Role.AUDITOR else []
        # The only owner is refused by the service, with the reason: nothing to confirm.
        stepping_down = (
            target.pk == membership.pk
            and target.role == Role.OWNER
            and owner_count(organization=membership.organization) > 1
        )
        if lost or stepping_down:
            context = {
                "target": target,
                "role": role,
                "role_label": Role(role).label.lower(),
                "lost": lost,
                "stepping_down": stepping_down,
            }
            return render(request, "organizations/member_role_confirm.html", context)
    try:
        target = membership_change_role(
            membership=target, role=role, actor=Actor.from_request(request)
        )
    except OrganizationError as error:
        return _member_page(request, membership, role_errors={target.pk: error.message}, status=400)
    messages.success(request, f"{target.user.email} is now {target.get_role_display().lower()}.")
    if target.pk == membership.pk and target.role != Role.OWNER:
        # Having stepped down, the caller can no longer see the members page.
        return redirect("org_home", slug=membership.organization.slug)
    return redirect("member_list", slug=membership.organization.slug)


@require_http_methods(["GET", "POST"])
@org_view(Role.OWNER)
def member_remove(request, membership, member_id):
    target = member_get(organization=membership.organization, member_id=member_id)
    error = None
    if request.method == "POST":
        try:
            membership_remove(membership=target, actor=Actor.from_request(request))
        except OrganizationError as refused:
            error = refused.message
        else:
            messages.success(
                request, f"{target.user.email} was removed from {membership.organization.name}."
            )
            if target.pk == membership.pk:
                return redirect("home")
            return redirect("member_list", slug=membership.organization.slug)
    in_use, _limit = connection_usage(membership=target)
    context = {"target": target, "in_use": in_use, "error": error}
    return render(
        request, "organizations/member_remove.html", context, status=400 if error else 200
    )


@require_POST
@org_view(Role.OWNER)
def invitation_revoke(request, membership, invitation_id):
    invitation = invitation_get(organization=membership.organization, invitation_id=invitation_id)
    invitations.invitation_revoke(invitation=invitation, actor=Actor.from_request(request))
    messages.success(request, f"The invitation for {invitation.email} no longer works.")
    return redirect("member_list", slug=membership.organization.slug)


# Accepting an invitation (no organization membership yet)


def _invalid_invitation(request, error):
    return render(
        request, "organizations/invitation_invalid.html", {"message": error.message}, status=400
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = invitations.invitation_check(token=token)
    except InvitationInvalid as error:
        return _invalid_invitation(request, error)
    signed_in = request.user.is_authenticated
    # Someone who already has an account signs in as it; no second account is offered.
    must_sign_in = not signed_in and invitations.account_exists_for(invitation.email)
    form = None if signed_in or must_sign_in else PasswordChoiceForm(email=invitation.email)
    status = 200
    if request.method == "POST":
        if form is not None:
            form = PasswordChoiceForm(request.POST, email=invitation.email)
        if form is None or form.is_valid():
            try:
                membership = invitations.invitation_accept(
                    token=token,
                    user=request.user if signed_in else None,
                    password=form.cleaned_data["password1"] if form is not None else None,
                    actor=Actor.from_request(request),
                )
            except InvitationInvalid as error:
                if must_sign_in:
                    status = 400
                elif form is None or error.field == "__all__":
                    return _invalid_invitation(request, error)
                else:
                    add_service_error(form, error)
            else:
                if not signed_in:
                    login(
                        request,
                        membership.user,
                        backend="django.contrib.auth.backends.ModelBackend",
                    )
                messages.success(request, f"Welcome to {membership.organization.name}.")
                return redirect("org_home", slug=membership.organization.slug)
    email_matches = signed_in and invitations.invited_address_is_theirs(invitation, request.user)
    context = {
        "invitation": invitation,
        "form": form,
        "email_matches": email_matches,
        "must_sign_in": must_sign_in,
        "account_exists_message": invitations.account_exists_message(invitation),
    }
    if form is not None and form.errors:
        status = 400
    return render(request, "organizations/invitation_accept.html", context, status=status)


# Plan: owners see it and what a change would do, and ask the operator for one.


def _tool_governance_form(organization) -> ToolGovernanceForm:
    return ToolGovernanceForm(
        initial={
            "review_new_connector_tools": organization.review_new_connector_tools,
            "changed_tools": organization.changed_tools,
            "block_new_destructive_tools": organization.block_new_destructive_tools,
        }
    )


def _plan_page(request, membership, *, form=None, tool_governance_form=None, status=200):
    organization = membership.organization
    context = {
        "form": form or PlanForm(initial={"plan": organization.plan.code}),
        "tool_governance_form": tool_governance_form or _tool_governance_form(organization),
        "pending_request": pending_plan_request(organization=organization),
    }
    return render(request, "organizations/plan.html", context, status=status)


@require_GET
@org_view(Role.OWNER)
def plan(request, membership):
    return _plan_page(request, membership)


def _preview_page(request, membership, form, *, status=200):
    """The preview of the change in `form` (valid), with the form that asks the operator."""
    try:
        preview = plan_change_preview(
            organization=membership.organization,
            plan=form.cleaned_data["plan"],
            limit_override=form.cleaned_data["limit"],
        )
    except OrganizationError as error:
        add_service_error(form, error)
        return None
    request_form = (
        form
        if isinstance(form, PlanRequestForm)
        else PlanRequestForm(
            initial={"plan": preview.plan.code, "limit": form.cleaned_data["limit"]}
        )
    )
    context = {"preview": preview, "form": form, "request_form": request_form}
    return render(request, "organizations/plan_preview.html", context, status=status)


@require_GET
@org_view(Role.OWNER)
def plan_preview(request, membership):
    form = PlanForm(request.GET)
    if form.is_valid() and (page := _preview_page(request, membership, form)):
        return page
    return _plan_page(request, membership, form=form, status=400)


@require_POST
@org_view(Role.OWNER)
def plan_request(request, membership):
    form = PlanRequestForm(request.POST)
    if form.is_valid():
        try:
            plan_change_request_create(
                organization=membership.organization,
                plan=form.cleaned_data["plan"],
                connection_limit=form.cleaned_data["limit"],
                message=form.cleaned_data["message"],
                actor=Actor.from_request(request),
            )
        except OrganizationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Your request for {form.cleaned_data['plan'].name} was sent to the operator, "
                "who changes plans. Nothing changes until they apply it.",
            )
            return redirect("plan", slug=membership.organization.slug)
    # Only the message was wrong: the preview again, with the message's error next to it.
    if not {"plan", "limit"} & set(form.errors) and (
        page := _preview_page(request, membership, form, status=400)
    ):
        return page
    return _plan_page(request, membership, form=form, status=400)


@require_POST
@org_view(Role.OWNER)
def organization_mfa(request, membership):
    form = MfaRequirementForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether two-factor authentication is required.")
        return redirect("plan", slug=membership.organization.slug)
    organization = organization_settings_update(
        organization=membership.organization,
        require_two_factor=form.cleaned_data["require_mfa"],
        actor=Actor.from_request(request),
        keep_session_key=request.session.session_key or "",
    )
    if organization.require_mfa_for_owners_and_auditors:
        messages.success(
            request,
            f"{organization.name} now requires two-factor authentication: owners and auditors "
            "without it are asked to set it up before they can continue, their sessions without "
            "it have ended and their API tokens here were revoked (they were told by email).",
        )
    else:
        messages.success(
            request, f"{organization.name} no longer requires two-factor authentication."
        )
    return redirect("plan", slug=membership.organization.slug)


@require_POST
@org_view(Role.OWNER)
def organization_tool_governance(request, membership):
    form = ToolGovernanceForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, membership, tool_governance_form=form, status=400)
    try:
        organization_settings_update(
            organization=membership.organization,
            actor=Actor.from_request(request),
            **form.cleaned_data,
        )
    except OrganizationError as error:
        add_service_error(form, error)
        return _plan_page(request, membership, tool_governance_form=form, status=400)
    messages.success(request, "The tool governance settings were saved.")
    return redirect("plan", slug=membership.organization.slug)
