"""Database work of the gateway's event loop, run in a thread pool (never the one shared
thread of `sync_to_async`'s default, which would queue every member behind one another)."""

import functools

from asgiref.sync import sync_to_async
from django.db import close_old_connections


def in_thread(function):
    """An awaitable version of `function`, run in a pool thread; the thread's database
    connection is given back (to the pool, with ORGCONNECTORS_DB_POOL) when it returns."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)
