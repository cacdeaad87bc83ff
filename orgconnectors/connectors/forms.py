from django import forms

from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.tool_policy import ToolState

_SECRET_WIDGET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class _ConnectorSettingsForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What members will see, for example “Company wiki”.",
        error_messages={"required": "Give the connector a name members will recognise."},
    )
    transport = forms.ChoiceField(
        label="Transport", choices=Connector.Transport.choices, initial=Connector.Transport.AUTO
    )
    auth = forms.ChoiceField(
        label="Authentication", choices=Connector.Auth.choices, initial=Connector.Auth.NONE
    )

    # Shown inside "Advanced OAuth settings", opened when one of them has a value or an error.
    OAUTH_FIELDS = ("oauth_client_id", "oauth_client_secret")

    def oauth_open(self) -> bool:
        return any(self[name].value() or self[name].errors for name in self.OAUTH_FIELDS)


class ConnectorForm(_ConnectorSettingsForm):
    directory_slug = forms.CharField(required=False, widget=forms.HiddenInput)
    url = forms.CharField(
        label="Server URL",
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://mcp.example.com/mcp"}),
        help_text="The address of the remote MCP server, starting with https://.",
        error_messages={"required": "Enter the server's URL, starting with https://."},
    )
    oauth_client_id = forms.CharField(
        label="OAuth client ID",
        required=False,
        max_length=255,
        help_text="Only if the server does not register clients by itself.",
    )
    oauth_client_secret = forms.CharField(
        label="OAuth client secret",
        required=False,
        strip=False,
        widget=_SECRET_WIDGET,
        help_text="Stored encrypted and never shown again.",
    )
    tool_default = forms.ChoiceField(
        label="Tools",
        choices=Connector.ToolDefault.choices,
        initial=Connector.ToolDefault.ALLOW,
        widget=forms.RadioSelect,
    )
    # Shown only where the organization requires zero data retention; the service enforces it.
    confirm_no_zdr = forms.BooleanField(
        label="I understand that this connector's traffic is not covered by zero data retention",
        required=False,
        help_text="Tool definitions and tool results sent through the Messages API's MCP "
        "connector follow standard retention.",
    )


class ConnectorEditForm(_ConnectorSettingsForm):
    oauth_client_id = forms.CharField(
        label="OAuth client ID",
        required=False,
        max_length=255,
        help_text="Clearing it also removes the client secret.",
    )
    oauth_client_secret = forms.CharField(
        label="New OAuth client secret",
        required=False,
        strip=False,
        widget=_SECRET_WIDGET,
        help_text="Leave empty to keep the current one. Stored encrypted and never shown again.",
    )


_DECISIONS = [("default", "Follow the default"), ("allow", "Allow"), ("block", "Block")]
_GROUPS = (
    (True, "Read-only tools"),
    (False, "Tools that change data"),
    (None, "Tools without a hint"),
)


class ToolPolicyForm(forms.Form):
    """The default plus one decision per known tool, and a name to add an override for a tool
    the server has not reported yet (tools are discovered by health checks)."""

    default = forms.ChoiceField(
        label="Default for tools", choices=Connector.ToolDefault.choices, widget=forms.RadioSelect
    )
    new_tool = forms.CharField(label="Tool name", required=False, max_length=128)
    new_tool_decision = forms.ChoiceField(
        label="Decision for it", choices=_DECISIONS[1:], initial="block"
    )

    def __init__(self, *args, connector: Connector, tools: list[ToolState], **kwargs):
        super().__init__(*args, **kwargs)
        self.tools = tools
        self.fields["default"].initial = connector.tool_default
        for tool in tools:
            initial = ("allow" if tool.enabled else "block") if tool.overridden else "default"
            self.fields[self._key(tool.name)] = forms.ChoiceField(
                label=tool.name, choices=_DECISIONS, initial=initial
            )

    @staticmethod
    def _key(name: str) -> str:
        return f"tool:{name}"

    def groups(self) -> list[tuple[str, list[tuple[ToolState, forms.BoundField]]]]:
        """Tools grouped by their read-only hint, when the server gives hints at all."""
        rows = [(tool, self[self._key(tool.name)]) for tool in self.tools]
        if all(tool.read_only is None for tool in self.tools):
            return [("Tools", rows)] if rows else []
        return [
            (title, members)
            for hint, title in _GROUPS
            if (members := [row for row in rows if row[0].read_only is hint])
        ]

    def overrides(self) -> dict[str, bool]:
        overrides = {}
        for tool in self.tools:
            decision = self.cleaned_data[self._key(tool.name)]
            if decision != "default":
                overrides[tool.name] = decision == "allow"
        new_tool = self.cleaned_data["new_tool"].strip()
        if new_tool:
            overrides[new_tool] = self.cleaned_data["new_tool_decision"] == "allow"
        return overrides


class QuotaForm(forms.Form):
    """One scope's limits, per member: the organization, a connector, or a tool of one."""

    connector = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Applies to",
        help_text="The whole organization, or one connector.",
    )
    tool_name = forms.CharField(
        required=False,
        max_length=128,
        label="Tool",
        help_text="Leave empty for every tool of the connector.",
    )
    per_minute = forms.IntegerField(
        required=False, min_value=1, label="Calls per minute", help_text="Empty: no limit."
    )
    per_day = forms.IntegerField(
        required=False, min_value=1, label="Calls per day", help_text="Empty: no limit."
    )

    def __init__(self, *args, connectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [("", "The whole organization")] + [
            (c.pk, c.name) for c in connectors
        ]
