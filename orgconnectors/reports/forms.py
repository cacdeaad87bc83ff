from django import forms

from orgconnectors.audit.actions import audit_action_label
from orgconnectors.audit.models import AuditEvent, UsageEvent
from orgconnectors.reports.models import ExportJob

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_DATE_ERRORS = {"invalid": "Enter the date as YYYY-MM-DD."}


def _choice(label: str, empty: str, what: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": f"There is no such {what} here; choose one listed."},
        choices=[("", empty)],
    )


class _DateRange(forms.Form):
    date_from = forms.DateField(
        label="From", required=False, widget=_DATE, error_messages=_DATE_ERRORS
    )
    date_to = forms.DateField(label="To", required=False, widget=_DATE, error_messages=_DATE_ERRORS)

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date; swap them.")
        return cleaned


def _people_and_connectors(form, connectors, members) -> None:
    form.fields["connector"].choices = [("", "Any connector")] + [
        (c.pk, c.name) for c in connectors
    ]
    form.fields["member"].choices = [("", "Anyone")] + [(m.user_id, m.user.email) for m in members]


class AuditFilterForm(_DateRange):
    actor = forms.CharField(
        label="Actor email contains",
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"list": "actor-names", "autocomplete": "off"}),
    )
    action = forms.ChoiceField(
        label="Action",
        required=False,
        error_messages={"invalid_choice": "No event has the action %(value)s; choose one listed."},
    )
    target = forms.CharField(
        label="Target name or id",
        required=False,
        max_length=300,
        help_text="Part of a name (connector, member, token) or an exact id.",
    )
    connector = _choice("Connector", "Any connector", "connector")
    member = _choice("Member", "Anyone", "member")
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "Any outcome"), *AuditEvent.Outcome.choices],
        error_messages={"invalid_choice": "Choose an outcome listed."},
    )
    field_order = [
        "actor", "action", "target", "connector", "member", "outcome", "date_from", "date_to",
    ]  # fmt: skip

    def __init__(self, *args, actions: list[str], connectors=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        labelled = [(action, audit_action_label(action)) for action in actions]
        self.fields["action"].choices = [("", "Any action"), *labelled]
        _people_and_connectors(self, connectors, members)


class UsageFilterForm(_DateRange):
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *UsageEvent.Kind.choices],
        error_messages={"invalid_choice": "Choose a kind listed."},
    )
    connector = _choice("Connector", "Any connector", "connector")
    member = _choice("Member", "Anyone", "member")
    field_order = ["kind", "connector", "member", "date_from", "date_to"]

    def __init__(self, *args, connectors=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        _people_and_connectors(self, connectors, members)


class UsagePageForm(forms.Form):
    PERIODS = [(7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days")]

    days = forms.TypedChoiceField(
        label="Period",
        required=False,
        coerce=int,
        empty_value=30,
        choices=PERIODS,
        error_messages={"invalid_choice": "Choose a period listed."},
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "All kinds"), *UsageEvent.Kind.choices],
        error_messages={"invalid_choice": "Choose a kind listed."},
    )


class ExportFormatForm(forms.Form):
    format = forms.ChoiceField(
        choices=ExportJob.Format.choices,
        error_messages={
            "required": "Say which format to export: format=csv or format=jsonl.",
            "invalid_choice": "Export as format=csv or format=jsonl.",
        },
    )


class ToolCallPageForm(forms.Form):
    days = UsagePageForm.base_fields["days"]
    connector = _choice("Connector", "Every connector", "connector")

    def __init__(self, *args, connectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [("", "Every connector")] + [
            (c.pk, c.name) for c in connectors
        ]
