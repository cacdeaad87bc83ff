"""Every field of every form of the dashboard, fed hostile values one at a time (the rest of the
form valid): the page comes back with the error next to the field (or the change is made),
never a 500, and a refused form writes nothing."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgconnectors.connectors.models import Connector
from orgconnectors.organizations.invitations import invitation_create
from tests.bad_input.strategies import any_form_field
from tests.factories import ConnectorFactory, MembershipFactory

CONNECTOR = {
    "name": "Docs",
    "url": "https://docs.example.com/mcp",
    "transport": "auto",
    "auth": "none",
    "tool_default": "allow",
}
AUDIT = ["actor", "action", "target", "connector", "member", "outcome", "date_from", "date_to"]
USAGE = ["kind", "connector", "member", "date_from", "date_to"]
# (method, path with {connector} / {member}, a valid form, the fields to spoil one at a time)
FORMS = [
    ("post", "/orgs/acme/connectors/add/", CONNECTOR, [*CONNECTOR, "oauth_client_id",
        "oauth_client_secret", "directory_slug", "confirm_no_zdr"]),
    ("post", "/orgs/acme/connectors/{connector}/edit/", {**CONNECTOR, "url": None},
        ["name", "transport", "auth", "oauth_client_id", "oauth_client_secret"]),
    ("post", "/orgs/acme/connectors/{connector}/tools/",
        {"default": "allow", "new_tool": "search", "new_tool_decision": "block"},
        ["default", "new_tool", "new_tool_decision"]),
    ("post", "/orgs/acme/members/invite/", {"email": "new@example.com", "role": "member"},
        ["email", "role"]),
    ("post", "/orgs/acme/members/{member}/role/", {"role": "auditor", "confirmed": "yes"},
        ["role", "confirmed"]),
    ("get", "/orgs/acme/plan/preview/", {"plan": "team"}, ["plan", "limit"]),
    ("post", "/orgs/acme/plan/two-factor/", {"require_mfa": "false"}, ["require_mfa"]),
    ("post", "/orgs/acme/plan/zero-data-retention/", {"requires_zero_data_retention": "false"},
        ["requires_zero_data_retention"]),
    ("post", "/orgs/acme/api-tokens/", {"name": "Script"}, ["name", "expires_in_days"]),
    ("post", "/tools/migrate-mcp-request/", {"request_body": "{}"}, ["request_body"]),
    ("get", "/orgs/acme/audit/", {}, [*AUDIT, "cursor"]),
    ("get", "/orgs/acme/audit/export/", {"format": "csv"}, [*AUDIT, "format"]),
    ("get", "/orgs/acme/usage/", {}, ["days", "kind"]),
    ("get", "/orgs/acme/usage/events/", {}, [*USAGE, "cursor"]),
    ("get", "/orgs/acme/usage/export/", {"format": "csv"}, [*USAGE, "format"]),
    ("get", "/", {}, ["org"]),
]  # fmt: skip
CASES = [(method, path, form, name) for method, path, form, names in FORMS for name in names]
_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def targets(org, owner, plan, settings, tmp_path):
    settings.ORGCONNECTORS_EXPORT_DIR = tmp_path / "exports"
    org.plan = plan("enterprise")
    org.save(update_fields=["plan"])
    wiki = ConnectorFactory(organization=org, name="Wiki", auth=Connector.Auth.NONE)
    member = MembershipFactory(organization=org, user__email="someone@acme.test")
    return {"connector": wiki.pk, "member": member.pk}


def _refused(response) -> bool:
    """Re-rendered with the errors next to the fields."""
    form = response.context.get("form") if response.context else None
    return response.status_code == 400 or bool(form is not None and form.errors)


def _send(client: Client, method: str, path: str, form: dict):
    data = {name: value for name, value in form.items() if value is not None}
    return getattr(client, method)(path, data)


@pytest.mark.parametrize(("method", "path", "form", "name"), CASES)
@_SETTINGS
@given(value=any_form_field)
def test_no_field_of_a_dashboard_form_answers_a_server_error(
    owner_browser, targets, stored, method, path, form, name, value
):
    before = stored()
    response = _send(owner_browser, method, path.format(**targets), {**form, name: value})
    assert response.status_code < 500
    if _refused(response):
        assert stored() == before


@pytest.fixture
def invitation(org, owner, actor):
    _invitation, token = invitation_create(
        organization=org, email="newcomer@acme.test", role="member", actor=actor(owner)
    )
    return token


@pytest.mark.parametrize("name", ["password1", "password2"])
@_SETTINGS
@given(value=any_form_field)
def test_no_field_of_the_invitation_form_answers_a_server_error(invitation, stored, name, value):
    form = {"password1": "a long passphrase 42", "password2": "a long passphrase 42"}
    before = stored()
    response = Client().post(f"/invitations/{invitation}/", {**form, name: value})
    assert response.status_code < 500
    if _refused(response):
        assert stored() == before


@_SETTINGS
@given(token=st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=80))
def test_no_invitation_link_answers_a_server_error(db, token):
    from urllib.parse import quote

    assert Client().get(f"/invitations/{quote(token, safe='')}/").status_code < 500
