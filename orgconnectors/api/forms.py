from django import forms


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="The app or script that will use it, for example “Deploy bot”.",
        error_messages={"required": "Name the token after the app that will use it."},
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty for a token that works until you revoke it.",
        error_messages={
            "invalid": "Enter a whole number of days, or leave it empty.",
            "min_value": "A token must last at least one day.",
            "max_value": "Ten years (3650 days) is the longest; leave it empty for no expiry.",
        },
    )
