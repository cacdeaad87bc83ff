"""Factories write rows directly; tests of a behaviour call the service that owns it."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.organizations.models import Membership, Organization, Plan

PASSWORD = "pw-for-tests-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or PASSWORD)
        if create:
            user.save(update_fields=["password"])


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organization {n}")
    # Plans come from the data migration 0002_default_plans, never from a factory.
    plan = factory.LazyFunction(lambda: Plan.objects.get(code="team"))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER


class ConnectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connector

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Connector {n}")
    url = factory.Sequence(lambda n: f"https://mcp{n}.example.com/mcp")
    transport = Connector.Transport.STREAMABLE_HTTP
    auth = Connector.Auth.NONE


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    membership = factory.SubFactory(MembershipFactory)
    connector = factory.SubFactory(
        ConnectorFactory, organization=factory.SelfAttribute("..membership.organization")
    )
    state = Connection.State.ENABLED
    enabled_at = factory.LazyFunction(timezone.now)
