"""Helpers of the fault tests: data set up on the stack through Django, read back with SQL."""

import json

from tests.servers import Stack


def seed(stack: Stack, function: str, **kwargs) -> dict:
    """Call tests/faults/seed.py's `function` in a Django process on the stack."""
    code = f"from tests.faults import seed; seed.{function}(**{kwargs!r})"
    return json.loads(stack.run_python(code).strip().splitlines()[-1])


def checks_of(stack: Stack, connector_id: int) -> int:
    return stack.postgres.scalar(
        "SELECT count(*) FROM health_healthcheck WHERE connector_id = %s", (connector_id,)
    )
