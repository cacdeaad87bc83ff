"""The dashboard (with the gateway), a Celery worker, Celery beat and the demo's MCP servers
in one terminal, stopped together by Ctrl-C.

One thread waits on everything at once: each child's output pipe and a self-pipe that the signal
handlers write to (signal.set_wakeup_fd), for SIGINT, SIGTERM and SIGCHLD. So a line of output, a
Ctrl-C and a child's death all wake the same select() at once; nothing polls on a timer.

Each child runs in its own process group, so Ctrl-C or a `kill` of the whole group reaches only
this command, which then asks each child once to stop. (A Celery worker whose pool processes get
the signal directly can hang in its warm shutdown.) On Linux the children are also told to stop
if this command dies without cleaning up.

The demo's servers speak https with a certificate of the demo's own authority (var/demo-ca/, made
the first time, see orgconnectors/demo/tls.py); the children trust it through
ORGCONNECTORS_EGRESS_CA_FILE, which only this command sets.
"""

import ctypes
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orgconnectors.demo.catalog import TLS_DIRECTORY
from orgconnectors.demo.tls import DemoTLS, demo_tls
from orgconnectors.egress.trust import CA_FILE_SETTING

# How long children get after SIGTERM before SIGKILL: a worker finishes its current task, and on
# the file broker it takes several seconds just to notice (it polls the folder once a second).
GRACE_SECONDS = 20
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _stop_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when its parent dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    partial: bytes = b""
    reported: bool = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the child's whole process group: a worker's pool processes go with it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it exited since running was checked; wait() below reaps it
        self.process.wait()


def _children(port: int, pool: str, tls_dir: Path) -> list[Child]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "orgconnectors"]
    return [
        # The project's ASGI application, as `make serve` serves it (with granian): Django and
        # the gateway's MCP endpoints (/mcp/...), which runserver (WSGI) would not serve.
        Child(
            "web",
            [
                python,
                "-m",
                "uvicorn",
                "orgconnectors.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "on",
            ],
        ),  # fmt: skip
        # The demo organization's connectors point at these (orgconnectors/demo/catalog.py);
        # started before the worker, so they listen by the first sweep.
        Child("mcp", [python, "-m", "orgconnectors.demo.mcp_servers", "--tls-dir", str(tls_dir)]),
        Child(
            "worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2", f"--pool={pool}"]
        ),
        Child("beat", [*celery, "beat", "--loglevel=INFO"]),
    ]


def _trust(tls: DemoTLS) -> Path:
    """The bundle the children trust on top of the public roots: the demo's authority, and
    the one ORGCONNECTORS_EGRESS_CA_FILE already names, if any (so private servers still work)."""
    own = settings.ORGCONNECTORS_EGRESS_CA_FILE
    if not own:
        return tls.ca_file
    bundle = tls.ca_file.with_name("trusted.pem")
    bundle.write_bytes(Path(own).read_bytes().rstrip() + b"\n" + tls.ca_file.read_bytes())
    return bundle


class Command(BaseCommand):
    help = (
        "Serve the dashboard on 127.0.0.1:PORT with a Celery worker, Celery beat and the demo's "
        "MCP servers, in the foreground, each line prefixed with its process. Ctrl-C stops all "
        "four; so does any one of them dying."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=settings.PORT,
            help="Port of the dashboard (default: $PORT or 8000).",
        )
        parser.add_argument(
            "--pool",
            default="prefork",
            choices=["prefork", "threads", "solo"],
            help="Celery worker pool (default: prefork, as in production; the filesystem broker "
            "works with all three).",
        )

    def handle(self, *args, port: int, pool: str, **options):
        tls_dir = settings.VAR_DIR / TLS_DIRECTORY
        self.trust = _trust(demo_tls(tls_dir))
        self.children = _children(port, pool, tls_dir)
        self.width = max(len(name) for name in ["run_dev", *(c.name for c in self.children)]) + 1
        self.selector = selectors.DefaultSelector()
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        self.selector.register(wake_read, selectors.EVENT_READ, None)
        previous = {sig: signal.getsignal(sig) for sig in (*_STOP_SIGNALS, signal.SIGCHLD)}
        previous_wakeup = signal.set_wakeup_fd(wake_write)
        for sig in previous:
            # The handler does nothing: set_wakeup_fd writes the signal number to the pipe.
            signal.signal(sig, lambda signum, frame: None)
        try:
            failure = self._run(wake_read)
        finally:
            for child in self.children:
                if child.running:
                    child.kill()
            signal.set_wakeup_fd(previous_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.selector.close()
            os.close(wake_read)
            os.close(wake_write)
        if failure:
            raise CommandError(failure)

    def _run(self, wake_read: int) -> str | None:
        """Start the children and pump their output until all have exited; returns why it
        stopped if that was a failure."""
        self._say(f"the dashboard and workers trust the demo servers' authority: {self.trust}")
        self._say(
            "your browser does not: the demo's consent page warns until you trust that file "
            "(it can only vouch for 127.0.0.1 and localhost) or proceed past the warning"
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1", CA_FILE_SETTING: str(self.trust)}
        for child in self.children:
            child.process = subprocess.Popen(
                child.argv,
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
            )
            os.set_blocking(child.process.stdout.fileno(), False)
            self.selector.register(child.process.stdout, selectors.EVENT_READ, child)
            self._say(f"started {child.name} (pid {child.process.pid}): {' '.join(child.argv)}")

        failure = None
        deadline = None  # set once stopping: when SIGKILL replaces waiting
        while any(child.running for child in self.children):
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            for key, _ in self.selector.select(timeout):
                if key.data is None:
                    signals = {int(byte) for byte in os.read(wake_read, 512)}
                    if not signals & set(_STOP_SIGNALS):
                        continue
                    if deadline is None:
                        self._say("stopping (Ctrl-C again to kill at once)")
                        deadline = self._stop_all()
                    elif signal.SIGINT in signals:
                        # Only a second Ctrl-C: make passes the SIGTERM it gets on to this
                        # command, so one `kill -TERM` of the process group arrives twice.
                        deadline = time.monotonic()
                else:
                    self._pump(key.data)
            for child in self.children:
                if child.running or child.reported:
                    continue
                child.reported = True
                code = child.process.returncode
                if deadline is not None:
                    self._say(f"{child.name} stopped")
                    continue
                self._say(f"{child.name} exited with code {code}; stopping the others")
                failure = f"{child.name} exited with code {code}, so the others were stopped."
                deadline = self._stop_all()
            if deadline is not None and time.monotonic() >= deadline:
                for child in self.children:
                    if child.running:
                        self._say(f"killing {child.name}")
                        child.kill()
        for child in self.children:
            self._drain(child)
        return failure

    def _stop_all(self) -> float:
        for child in self.children:
            if child.running:
                child.process.terminate()
        return time.monotonic() + GRACE_SECONDS

    def _pump(self, child: Child) -> None:
        try:
            chunk = os.read(child.process.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not chunk:
            self._close(child)
            return
        *lines, child.partial = (child.partial + chunk).split(b"\n")
        for line in lines:
            self._line(child.name, line)

    def _drain(self, child: Child) -> None:
        """What a child wrote just before exiting; a grandchild may hold the pipe, so no wait."""
        if child.process.stdout.closed:
            return
        while True:
            try:
                chunk = os.read(child.process.stdout.fileno(), 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            child.partial += chunk
        self._close(child)

    def _close(self, child: Child) -> None:
        for line in child.partial.split(b"\n") if child.partial else []:
            self._line(child.name, line)
        child.partial = b""
        self.selector.unregister(child.process.stdout)
        child.process.stdout.close()

    def _line(self, name: str, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        self.stdout.write(f"{name:<{self.width}}| {text}")
        self.stdout.flush()

    def _say(self, text: str) -> None:
        self._line("run_dev", text.encode())
