from django import forms

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Actor email contains", required=False, max_length=254)
    action = forms.ChoiceField(
        label="Action",
        required=False,
        error_messages={"invalid_choice": "No event has the action %(value)s; choose one listed."},
    )
    target = forms.CharField(label="Target", required=False, max_length=300)
    date_from = forms.DateField(
        label="From",
        required=False,
        widget=_DATE,
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        widget=_DATE,
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )

    def __init__(self, *args, actions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action")] + [(a, a) for a in actions]

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date; swap them.")
        return cleaned
