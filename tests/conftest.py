import threading

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from orgconnectors.celery import app as celery_app
from orgconnectors.core.actor import Actor
from orgconnectors.messages_api.ratelimit import forget_rate_counts
from orgconnectors.organizations.models import Membership, Plan
from tests.factories import MembershipFactory, OrganizationFactory

Role = Membership.Role


@pytest.fixture(autouse=True)
def celery_configuration_is_left_as_found():
    """Fail at the test that assigns to celery_app.conf instead of at some later victim.

    The Celery app reads CELERY_* from Django's settings on every lookup, but a value assigned to
    celery_app.conf (even one "restored" to what it read before) lands in a layer above them and
    shadows them for the rest of the process: a later test's CELERY_TASK_ALWAYS_EAGER stops
    working. Override CELERY_* with pytest-django's `settings` fixture, as eager_celery does.
    """
    celery_app.conf.task_always_eager  # noqa: B018 - loads the configuration before the snapshot
    before = dict(celery_app.conf.changes)
    yield
    after = dict(celery_app.conf.changes)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:  # put it back, so that only this test fails
        celery_app.conf.changes.clear()
        celery_app.conf.changes.update(before)
    assert not changed, (
        f"this test assigned {changed} on the Celery app's configuration, which shadows Django's "
        "CELERY_* settings for every later test; override them with the `settings` fixture"
    )


@pytest.fixture(autouse=True)
def rate_limits_start_afresh():
    """With REDIS_URL the cache (and allauth's rate limits in it) outlives the test process:
    each test starts without an earlier test's or run's sign-in failures. Only the cache's own
    keys go; Celery's queues in the same database stay."""
    yield
    forget_rate_counts()
    if django_settings.REDIS_URL:
        # The configuration's moving windows (the `limits` library's keys).
        limits_redis = redis.Redis.from_url(django_settings.REDIS_URL, socket_connect_timeout=0.5)
        try:
            keys = list(limits_redis.scan_iter(match="LIMITS:LIMITER/orgconnectors-ratelimit*"))
            if keys:
                limits_redis.delete(*keys)
        except (redis.RedisError, OSError):
            pass  # a test stopped its Redis: nothing of it to forget
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def eager_celery(settings):
    """Tasks run inline when enqueued, as on a single process.

    Through Django's settings, which the Celery app reads on each lookup and pytest-django
    restores after the test; never by assigning to celery_app.conf (see above).
    """
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # A deliberately slow hasher would make every created user cost a quarter of a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def plan(db):
    """The plans of the data migration, by code: plan("free"), plan("enterprise")."""

    def get(code: str) -> Plan:
        return Plan.objects.get(code=code)

    return get


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def owner(org):
    return MembershipFactory(organization=org, role=Role.OWNER, user__email="owner@acme.test")


@pytest.fixture
def member(org):
    return MembershipFactory(organization=org, role=Role.MEMBER, user__email="member@acme.test")


@pytest.fixture
def auditor(org):
    return MembershipFactory(organization=org, role=Role.AUDITOR, user__email="auditor@acme.test")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="globex", name="Globex")


@pytest.fixture
def other_owner(other_org):
    return MembershipFactory(
        organization=other_org, role=Role.OWNER, user__email="owner@globex.test"
    )


@pytest.fixture
def other_member(other_org):
    return MembershipFactory(
        organization=other_org, role=Role.MEMBER, user__email="member@globex.test"
    )


@pytest.fixture
def actor():
    """actor(membership or user) -> the Actor a request from them would carry."""

    def make(who=None, *, ip: str = "203.0.113.7", user_agent: str = "pytest-browser/1.0"):
        user = getattr(who, "user", who)
        return Actor(user=user, ip=ip, user_agent=user_agent)

    return make


@pytest.fixture
def run_concurrently():
    """Run the calls in threads released together; returns each call's result or exception.

    Each thread opens its own database connection, so the test must commit what the threads
    read: `django_db(transaction=True, serialized_rollback=True)`. serialized_rollback restores
    the plans of the data migration, which the flush after a transactional test removes.
    """

    def run(*calls, timeout: float = 30):
        barrier = threading.Barrier(len(calls))
        outcomes: list = [None] * len(calls)

        def work(index, call):
            try:
                barrier.wait(timeout=timeout)
                outcomes[index] = call()
            except BaseException as exc:  # noqa: BLE001 - handed back for the test to judge
                outcomes[index] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout)
        assert not any(thread.is_alive() for thread in threads), "a thread is still waiting"
        return outcomes

    return run
