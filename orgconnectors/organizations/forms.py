from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password

from orgconnectors.organizations.models import Membership, Organization, Plan


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
        error_messages={
            "required": "Enter the email address of the person to invite.",
            "invalid": "Enter a whole email address, like name@example.com.",
        },
    )
    role = forms.ChoiceField(
        label="Role", choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class PasswordChoiceForm(forms.Form):
    """The password of the account an invitation creates, checked by the site's validators."""

    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        error_messages={"required": "Choose a password for your new account."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Type it again",
        strip=False,
        error_messages={"required": "Type the password a second time, to be sure of it."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ; type the same one twice.")
        elif password1:
            # An unsaved user, so the similarity check compares against the invited address.
            user = get_user_model()(email=self.email)
            try:
                validate_password(password1, user=user)
            except forms.ValidationError as invalid:
                self.add_error("password1", invalid)
        return cleaned


class PlanForm(forms.Form):
    plan = forms.ModelChoiceField(
        label="Plan",
        queryset=Plan.objects.all(),
        to_field_name="code",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choose one of the plans in the table.",
            "invalid_choice": "Choose one of the plans in the table.",
        },
    )
    limit = forms.IntegerField(
        label="Your own limit of connections per member",
        required=False,
        min_value=1,
        max_value=1000,
        help_text="Only for plans marked “or a limit you set”. Leave empty to use the plan's own.",
        error_messages={
            "invalid": "Enter a whole number of connections, or leave it empty.",
            "min_value": "The limit must be at least 1.",
            "max_value": "The limit can be at most 1000.",
        },
    )


class PlanRequestForm(PlanForm):
    """What the owner asks the operator for, after reading the preview."""

    message = forms.CharField(
        label="A word for the operator (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Keep the message under 2000 characters."},
    )


class MfaRequirementForm(forms.Form):
    require_mfa = forms.TypedChoiceField(
        choices=[("true", "Required"), ("false", "Not required")],
        coerce=lambda value: value == "true",
        error_messages={"required": "Say whether two-factor authentication is required."},
    )


class ToolGovernanceForm(forms.Form):
    """What members get when a connector's server changes its tools (connectors/tool_review.py)."""

    review_new_connector_tools = forms.BooleanField(
        required=False,
        label="Review new connectors' tools before members get them",
        help_text="Off: a new connector's first complete tool listing is trusted at its first "
        "successful health check. On: even that listing waits for an owner's approval.",
    )
    changed_tools = forms.ChoiceField(
        choices=Organization.ChangedTools.choices,
        widget=forms.RadioSelect,
        label="When a server changes an approved tool",
        help_text="Keeping the approved version hands members the definition you approved "
        "(pinned in their API requests; left out where it cannot be pinned). Holding leaves the "
        "tool out everywhere until you review the change.",
        error_messages={"required": "Choose what happens to a changed tool."},
    )
    block_new_destructive_tools = forms.BooleanField(
        required=False,
        label="New tools marked destructive start blocked",
        help_text="A new tool its server marks as able to delete or overwrite data is blocked by "
        "the tool policy until an owner allows it.",
    )
