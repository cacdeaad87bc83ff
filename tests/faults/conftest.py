"""The fault tests' own PostgreSQL and Redis (tests/servers.py), shared by the tests of one run.

Each test starts the processes it needs on them and leaves the servers running and its rows
out of the next test's way (nothing due), whatever it stopped or killed.
"""

import pytest

from tests.servers import Stack, make_stack, remove_stack


@pytest.fixture(scope="session")
def stack():
    made = make_stack()
    yield made
    remove_stack(made)


@pytest.fixture
def servers(stack: Stack):
    """The stack, restored after the test: servers up, processes gone, nothing due."""
    stack.extra_env = {}
    yield stack
    stack.stop_processes()
    if not stack.redis.accepts():
        stack.redis.stop()
        stack.redis.start()
    if not stack.postgres.accepts():
        stack.postgres.stop("immediate")
        stack.postgres.start()
    stack.postgres.execute(
        "UPDATE connectors_connector SET next_check_at = now() + interval '1 day'"
    )
    stack.postgres.execute(
        "UPDATE oauth_oauthcredential SET next_refresh_at = now() + interval '1 day'"
    )
    stack.redis.flush()
