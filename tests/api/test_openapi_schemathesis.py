"""The OpenAPI document against the API itself: schemathesis generates requests for every
operation (valid ones and, in its coverage and fuzzing phases, invalid ones), sends them to the
WSGI app as an owner with a bearer token, and checks that nothing answers 5xx and that every
answer's status, content type and body are the ones the document declares.

Deterministic (derandomized, a fixed number of examples per operation). Path parameters are
pointed at real objects of the owner's organization when the generated value has the right
type, so requests get past the 404 of an unknown id into the handlers.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orgconnectors.api.tokens import api_token_create
from orgconnectors.api.urls import api
from orgconnectors.connectors.models import ToolOverride
from orgconnectors.health.models import HealthRun
from orgconnectors.wsgi import application
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.messages_api.helpers import stored_credential

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, keeping the test's database connection between requests (as
    Django's own test client does): the test's transaction holds the data the requests read."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def acme(org, owner, member, auditor, actor, settings):
    """Acme's objects for path parameters, and the owner's bearer token."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ORGCONNECTORS_CONFIG_RATE_LIMIT = "100000/min"
    connector = ConnectorFactory(organization=org, name="Acme wiki")
    ConnectionFactory(membership=owner, connector=connector)
    # For the Messages API configuration: a token, an allowlist and a connector left out.
    tracker = ConnectorFactory(organization=org, name="Tracker", auth="oauth", tool_default="block")
    ToolOverride.objects.create(connector=tracker, tool_name="search", enabled=True)
    stored_credential(ConnectionFactory(membership=owner, connector=tracker), token="tok")
    ConnectionFactory(membership=owner, connector__organization=org, connector__status="down")
    run = HealthRun.objects.create(organization=org, kind=HealthRun.Kind.ALL, total=0)
    spare, _secret = api_token_create(membership=owner, name="Spare", actor=actor(owner))
    _api_token, token = api_token_create(membership=owner, name="Fuzzer", actor=actor(owner))
    return {
        "headers": {"Authorization": f"Bearer {token}"},
        "path": {
            "org": "acme",
            "connector_id": connector.pk,
            "member_id": member.pk,
            "run_id": run.pk,
            "token_id": spare.pk,
        },
    }


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_openapi_document_says(case, acme, wsgi_app):
    for name, value in acme["path"].items():
        current = (case.path_parameters or {}).get(name)
        # A generated value of the wrong type is a deliberate invalid case: kept as it is.
        if current is not None and type(current) is type(value):
            case.path_parameters[name] = value
    case.call_and_validate(app=wsgi_app, headers=acme["headers"], checks=CHECKS)
