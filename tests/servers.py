"""PostgreSQL, Redis and orgconnectors' own processes, started for one test run on loopback.

The fault tests stop, restart and kill these; they are theirs alone (a temporary cluster made
with initdb on a free port, a redis-server on a free port), so nothing they do reaches the
servers the rest of the suite uses. Every wait is a poll with a deadline.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every=0.1):
    """The first truthy value of `condition()` within `timeout` seconds, else AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        raise RuntimeError(f"{name} not found: the fault tests need PostgreSQL's server binaries")
    return found[-1]


def _as_postgres(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; under root, the cluster belongs to the postgres user.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], *, timeout: float, check: bool = True) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own: trust auth, 127.0.0.1 on a free port."""

    home: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.home / "data"

    def url(self, name: str = "orgconnectors") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> "Postgres":
        self.home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres", "postgres")
        _run(
            _as_postgres(
                [_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
                + ["--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]
            ),
            timeout=START_TIMEOUT,
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.home}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            _as_postgres(
                [_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.home / "log")]
                + ["-o", options, "-w", "-t", str(int(START_TIMEOUT)), "start"]
            ),
            timeout=START_TIMEOUT + 5,
        )
        wait_for(self.accepts, timeout=START_TIMEOUT, what="PostgreSQL to accept connections")

    def stop(self, mode: str = "fast") -> None:
        # Not checked: stopping a cluster that is already down (or crashed) is fine.
        _run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            timeout=START_TIMEOUT,
            check=False,
        )

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends at once, as a crash of the machine would."""
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
            pid = int(pid_file.read_text().split()[0])
            group = os.getpgid(pid)
            # pg_ctl puts the postmaster in a session of its own; never signal the test run's.
            assert group != os.getpgid(0), "the postmaster shares the test run's process group"
            os.killpg(group, signal.SIGKILL)
            wait_for(lambda: not _alive(pid), timeout=START_TIMEOUT, what="the postmaster to die")

    def accepts(self) -> bool:
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def query(self, sql: str, params=(), *, name: str = "orgconnectors") -> list[tuple]:
        with psycopg.connect(self.url(name), connect_timeout=5, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params=(), *, name: str = "orgconnectors") -> None:
        with psycopg.connect(self.url(name), connect_timeout=5, autocommit=True) as conn:
            conn.execute(sql, params)

    def scalar(self, sql: str, params=(), *, name: str = "orgconnectors"):
        return self.query(sql, params, name=name)[0][0]


@dataclass
class Redis:
    """A redis-server of its own on a free port, keeping nothing on disk."""

    home: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.home)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.accepts, timeout=START_TIMEOUT, what="Redis to answer PING")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process = None

    def flush(self) -> None:
        redis.Redis(port=self.port, socket_timeout=5).flushall()

    def accepts(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False


@dataclass
class Process:
    """One of orgconnectors' processes (web server, worker, beat), its output in a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> "Process":
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopping it never signals the test run
        )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_output(self, text: str, *, timeout: float = START_TIMEOUT) -> None:
        def seen():
            if not self.alive():
                raise AssertionError(f"{self.name} exited:\n{self.output()[-3000:]}")
            return text in self.output()

        wait_for(seen, timeout=timeout, what=f"{self.name} to say {text!r}")

    def kill(self) -> None:
        """SIGKILL its whole process group: no chance to finish or acknowledge anything."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log_file", None):
            self._log_file.close()


@dataclass
class Stack:
    """A database and a broker of their own, and the processes started against them."""

    home: Path
    postgres: Postgres
    redis: Redis
    database_url: str
    processes: list[Process] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST", "TEST_DATABASE", "DJANGO_SETTINGS"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis.url(),
            ORGCONNECTORS_DEV="1",
            ORGCONNECTORS_ALLOW_LOOPBACK="1",
            ORGCONNECTORS_VAR_DIR=str(self.home / "var"),
            DJANGO_DEBUG="0",
            DJANGO_SETTINGS_MODULE="orgconnectors.settings",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Process:
        index = len(self.processes)
        process = Process(name, argv, env, self.home / f"{index:02d}-{name}.log").start()
        self.processes.append(process)
        return process

    def manage(self, *args: str, timeout: float = 120, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            env=self.env(**env),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def run_python(self, code: str, *, timeout: float = 60, **env: str) -> str:
        """Run `code` in a Django process on this stack (for setting up data); its stdout."""
        prelude = "import django; django.setup()\n"
        done = subprocess.run(
            [sys.executable, "-c", prelude + code],
            env=self.env(**env),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
        return done.stdout

    def web(self, **env: str) -> "Web":
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", "orgconnectors.asgi:application"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        process = self._spawn("web", argv, self.env(**env))
        web = Web(process, f"http://127.0.0.1:{port}")
        wait_for(web.answers, timeout=START_TIMEOUT, what="the web server to answer")
        return web

    def worker(
        self, name: str = "worker", *, queues: str | None = None, wait: bool = True, **env: str
    ) -> Process:
        # The solo pool runs each task in the worker's own process: a SIGKILL to it is a kill
        # in the middle of whatever task it is running, with no pool child left behind.
        argv = [sys.executable, "-m", "celery", "-A", "orgconnectors", "worker", "--pool=solo"]
        argv += ["--loglevel=INFO", "-n", f"{name}-{len(self.processes)}@%h", "--without-gossip"]
        argv += ["--without-mingle", "--without-heartbeat"]
        if queues:
            argv += ["-Q", queues]
        process = self._spawn(name, argv, self.env(**env))
        if wait:
            process.wait_for_output(" ready.")
        return process

    def beat(self, name: str = "beat", *, wait: bool = True, **env: str) -> Process:
        schedule = self.home / f"{name}-{len(self.processes)}-schedule"
        argv = [sys.executable, "-m", "celery", "-A", "orgconnectors", "beat"]
        argv += ["--loglevel=INFO", "-s", str(schedule), "--pidfile="]
        process = self._spawn(name, argv, self.env(**env))
        if wait:
            process.wait_for_output("beat: Starting...")
        return process

    def send_task(self, name: str, **kwargs) -> None:
        """Enqueue a task by name on this stack's broker, as beat or the web server would."""
        from celery import Celery

        # An app of its own: the suite's Celery app is configured for the suite's broker.
        sender = Celery("fault-tests", broker=self.redis.url(), set_as_current=False)
        sender.conf.task_serializer = "json"
        try:
            sender.send_task(name, kwargs=kwargs)
        finally:
            sender.close()

    def stop_processes(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


@dataclass
class Web:
    process: Process
    url: str

    def answers(self) -> bool:
        import httpx

        if not self.process.alive():
            raise AssertionError(f"the web server exited:\n{self.process.output()[-3000:]}")
        try:
            httpx.get(f"{self.url}/accounts/login/", timeout=2)
        except httpx.HTTPError:
            return False
        return True


def make_stack() -> Stack:
    home = Path(tempfile.mkdtemp(prefix="oc-faults-"))
    home.chmod(0o711)  # the postgres user must reach its cluster inside
    postgres, broker = Postgres(home / "pg"), Redis(home / "redis")
    try:
        postgres.init().start()
        broker.home.mkdir()
        broker.start()
        stack = Stack(home, postgres, broker, postgres.create_database("orgconnectors"))
        stack.manage("migrate", "--noinput", timeout=300)
    except BaseException:
        broker.stop()
        postgres.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)
        raise
    return stack


def remove_stack(stack: Stack) -> None:
    stack.stop_processes()
    stack.redis.stop()
    stack.postgres.stop("immediate")
    shutil.rmtree(stack.home, ignore_errors=True)
