"""A queryset turned into SQL once per process, then run again with other values.

Django compiles a queryset anew each time it is evaluated. For the two reads behind every
Messages API configuration (asked for before each request an app sends) compiling costs more
than running them: about 1 ms each against 0.3 ms (bench/messages_api_config.py). The queryset
is built once with sentinel values for its variable parameters; the sentinels are found again
among the compiled SQL's parameters, and each run passes the real values in their place. Rows
go through the compiler's own converters, so they come back exactly as from the queryset.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

# Negative and large: no id, count or constant of a real query has these values.
_SENTINEL_BASE = -7_919_000_001


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: tuple  # per parameter: ("value", name) or ("constant", value)
    compiler: object


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet], *names: str):
        """`build(**values)` returns the queryset (of values_list rows) for those values."""
        self._build = build
        self._names = names
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        sentinels = {name: _SENTINEL_BASE - index for index, name in enumerate(self._names)}
        queryset = self._build(**sentinels).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        by_sentinel = {value: name for name, value in sentinels.items()}
        slots = tuple(
            ("value", by_sentinel[param])
            if isinstance(param, int) and param in by_sentinel
            else ("constant", param)
            for param in params
        )
        missing = set(self._names) - {name for kind, name in slots if kind == "value"}
        if missing:
            raise RuntimeError(f"the compiled query does not take {sorted(missing)}")
        return _Compiled(sql, slots, compiler)

    def rows(self, *, using: str = "default", **values) -> list[tuple]:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        params = [values[item] if kind == "value" else item for kind, item in compiled.slots]
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        return [tuple(row) for row in compiled.compiler.results_iter(results=[fetched])]
