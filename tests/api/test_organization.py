from orgconnectors.connectors.models import Connection
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.responses import NOT_FOUND

ACME = "/api/v1/orgs/acme"


def test_it_answers_the_organization_with_the_callers_role_limit_and_usage(
    as_member, member, owner, org
):
    for state in (Connection.State.ENABLED, Connection.State.NEEDS_AUTHORIZATION):
        ConnectionFactory(
            membership=member, connector=ConnectorFactory(organization=org), state=state
        )
    # Neither counts: a suspended connection is not in use, and the owner's are the owner's.
    ConnectionFactory(
        membership=member,
        connector=ConnectorFactory(organization=org),
        state=Connection.State.SUSPENDED,
    )
    ConnectionFactory(membership=owner, connector=ConnectorFactory(organization=org))

    response = as_member.get(ACME)

    assert response.status_code == 200
    assert response.json() == {
        "slug": "acme",
        "name": "Acme",
        "plan": "team",
        "role": "member",
        "limits": {"max_enabled_connections": 10},
        "usage": {"enabled_connections": 2},
    }


def test_an_organizations_own_limit_replaces_the_plans(as_auditor, org, plan):
    org.plan = plan("enterprise")
    org.connection_limit_override = 40
    org.save(update_fields=["plan", "connection_limit_override"])

    body = as_auditor.get(ACME).json()

    assert (body["plan"], body["role"]) == ("enterprise", "auditor")
    assert body["limits"] == {"max_enabled_connections": 40}
    assert body["usage"] == {"enabled_connections": 0}


def test_an_organization_that_does_not_exist_is_not_found(as_owner):
    response = as_owner.get("/api/v1/orgs/nowhere")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
