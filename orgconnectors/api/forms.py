from django import forms

from orgconnectors.api.scopes import DESCRIPTIONS, SCOPES
from orgconnectors.api.tokens import DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="The app or script that will use it, for example “Deploy bot”.",
        error_messages={"required": "Name the token after the app that will use it."},
    )
    scopes = forms.MultipleChoiceField(
        label="What it may do",
        widget=forms.CheckboxSelectMultiple,
        choices=[(scope, f"{scope}: {DESCRIPTIONS[scope]}") for scope in SCOPES],
        help_text="Give it only what the app needs.",
        error_messages={
            "required": "Choose at least one scope.",
            "invalid_choice": "Your role does not allow the scope “%(value)s”.",
        },
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_LIFETIME_DAYS,
        initial=DEFAULT_LIFETIME_DAYS,
        help_text=f"Empty: {DEFAULT_LIFETIME_DAYS} days. At most {MAX_LIFETIME_DAYS}.",
        error_messages={
            "invalid": "Enter a whole number of days, or leave it empty.",
            "min_value": "A token must last at least one day.",
            "max_value": f"A token lasts at most {MAX_LIFETIME_DAYS} days.",
        },
    )

    def __init__(self, *args, allowed_scopes: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        # Only the scopes the person's role allows are offered, all ticked to start with.
        field = self.fields["scopes"]
        field.choices = [
            (value, label) for value, label in field.choices if value in allowed_scopes
        ]
        field.initial = list(allowed_scopes)
