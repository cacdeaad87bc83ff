"""Tool-call usage rows, written in batches off the call's path.

A call appends its row to this process's buffer (a list append under a lock); a daemon thread
writes the buffer in one INSERT every ORGCONNECTORS_GATEWAY_USAGE_FLUSH_SECONDS, or at once
when BATCH_ROWS are waiting. A graceful shutdown (lifespan shutdown, or the interpreter exiting
normally after SIGTERM) writes what is left. A crash (SIGKILL, power loss) loses the rows of
at most the last flush interval of this process; a failed INSERT is logged and its rows kept
for the next attempt, up to MAX_ROWS waiting.
"""

import atexit
import logging
import os
import threading

from django.conf import settings
from django.db import connection

from orgconnectors.audit.usage import usage_record_rows

logger = logging.getLogger(__name__)

BATCH_ROWS = 500
MAX_ROWS = 100_000


class UsageBuffer:
    def __init__(self) -> None:
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._flushing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, row: dict) -> None:
        with self._lock:
            if len(self._rows) >= MAX_ROWS:
                logger.error("gateway usage buffer full: a tool-call row is dropped")
                return
            self._rows.append(row)
            full = len(self._rows) >= BATCH_ROWS
        self._start()
        if full:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="gateway-usage", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(settings.ORGCONNECTORS_GATEWAY_USAGE_FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            finally:
                connection.close()  # back to the pool; nothing held between flushes

    def flush(self) -> int:
        """Write every waiting row now; returns how many were written."""
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            written = 0
            try:
                while written < len(rows):
                    usage_record_rows(rows[written : written + BATCH_ROWS])
                    written += min(BATCH_ROWS, len(rows) - written)
            except Exception:
                logger.exception("gateway usage rows not written; kept for the next flush")
                left = rows[written:]
                with self._lock:
                    self._rows[:0] = left[: max(MAX_ROWS - len(self._rows), 0)]
            return written


buffer = UsageBuffer()


def usage_add(row: dict) -> None:
    buffer.add(row)


def usage_flush() -> int:
    return buffer.flush()


def usage_pending() -> int:
    return buffer.pending()


atexit.register(lambda: usage_pending() and usage_flush())
