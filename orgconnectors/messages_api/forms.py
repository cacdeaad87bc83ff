from django import forms

from orgconnectors.messages_api.beta_upgrade import MAX_REQUEST_CHARS


class MigrateRequestForm(forms.Form):
    request_body = forms.CharField(
        label="Request body (mcp-client-2025-04-04)",
        strip=False,
        max_length=MAX_REQUEST_CHARS,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code"}),
        help_text="The JSON body of a Messages API request that uses tool_configuration.",
        error_messages={
            "required": "Paste the JSON body of the request to migrate.",
            "max_length": "Paste at most a million characters; shorten the messages first.",
        },
    )


class RetentionForm(forms.Form):
    requires_zero_data_retention = forms.TypedChoiceField(
        choices=[("true", "Required"), ("false", "Not required")],
        coerce=lambda value: value == "true",
        error_messages={"required": "Say whether zero data retention is required."},
    )
