"""The audit trail and usage logs at scale: prints figures and ratios, asserts nothing.

    ORGCONNECTORS_DEV=1 .venv/bin/python bench/audit_scale.py [--reseed] [--explain]

Seeds 1,000,000 audit events (hash-chained, as the application writes them) and 5,000,000 usage
events across 1,000 organizations into a dedicated PostgreSQL database (oc_bench_audit, on the
server of DATABASE_URL; created and migrated when missing, seeded once and kept, --reseed starts
over; BENCH_DATABASE names another one, e.g. for a quick run with --scale 0.02). Then, side by
side in one run, for "bigco" (250,000 audit and 1,000,000 usage events) and
"smallco" (1,000 of each), with the same people and connectors:

- the audit list, a filtered list (actor + date range), the usage page, the usage events list
  and the first page of an export: median time, ratio big/small (target <= 1.5x), queries;
- writing a usage event (in the request's transaction, after its commit) and an audit event;
- a full export of bigco's 1,000,000 usage events by a worker process: time and peak RSS
  (VmHWM; target < 200 MB);
- verify_audit_chain over bigco's chain and the usage rollup over all usage events.

--explain writes EXPLAIN (ANALYZE, BUFFERS) of every query of bigco's requests to
var/bench/audit-plans.txt (what docs/audit-indexes.md is drawn from).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")

BENCH_DB = "oc_bench_audit"
ORGS = 1000
AUDIT_TOTAL, USAGE_TOTAL = 1_000_000, 5_000_000
BIG_AUDIT, BIG_USAGE = 250_000, 1_000_000
SMALL_EVENTS = 1_000
PEOPLE, CONNECTORS = 100, 20  # in bigco and smallco alike: only the number of events differs
OTHER_PEOPLE, OTHER_CONNECTORS = 5, 3
SPAN = timedelta(days=90)
RUNS = 15


def bench_url() -> str:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/orgconnectors"
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("bench/audit_scale.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    return urlunsplit(parts._replace(path="/" + os.environ.get("BENCH_DATABASE", BENCH_DB)))


def ensure_database(url: str, *, reseed: bool) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# Seeding ---------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


def _people_and_connectors(scale: float):
    """Organizations, people, memberships, connectors and connections, through the ORM."""
    from django.contrib.auth import get_user_model

    from orgconnectors.connectors.models import Connection, Connector
    from orgconnectors.organizations.models import Membership, Organization, Plan

    User = get_user_model()
    team = Plan.objects.get(code="team")
    slugs = ["bigco", "smallco"] + [f"org{n:04d}" for n in range(2, int(ORGS * scale) or 3)]
    Organization.objects.bulk_create(
        [Organization(slug=s, name=s.capitalize(), plan=team) for s in slugs]
    )
    orgs = {o.slug: o for o in Organization.objects.all()}
    users, memberships, connectors = [], [], []
    for slug in slugs:
        count = PEOPLE if slug in ("bigco", "smallco") else OTHER_PEOPLE
        for n in range(count):
            users.append(User(email=f"member{n:03d}@{slug}.bench", password="!"))
    User.objects.bulk_create(users, batch_size=5000)
    by_email = dict(User.objects.values_list("email", "pk"))
    for slug in slugs:
        big = slug in ("bigco", "smallco")
        for n in range(PEOPLE if big else OTHER_PEOPLE):
            role = "owner" if n == 0 else "auditor" if n == 1 else "member"
            memberships.append(
                Membership(
                    user_id=by_email[f"member{n:03d}@{slug}.bench"],
                    organization=orgs[slug],
                    role=role,
                )
            )
        for n in range(CONNECTORS if big else OTHER_CONNECTORS):
            connectors.append(
                Connector(
                    organization=orgs[slug],
                    name=f"Connector {n:02d}",
                    url=f"https://mcp{n}.{slug}.bench/mcp",
                    status="healthy",
                )
            )
    Membership.objects.bulk_create(memberships, batch_size=5000)
    Connector.objects.bulk_create(connectors, batch_size=5000)
    connections = []
    for slug in ("bigco", "smallco"):
        ids = list(
            Connector.objects.filter(organization=orgs[slug])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        people = Membership.objects.filter(organization=orgs[slug], role="member").order_by("pk")
        for i, membership_id in enumerate(people.values_list("pk", flat=True)):
            for k in range(3):
                connections.append(
                    Connection(
                        membership_id=membership_id,
                        connector_id=ids[(i + k) % len(ids)],
                        state="enabled",
                        enabled_at=datetime.now(UTC),
                    )
                )
    Connection.objects.bulk_create(connections, batch_size=5000)
    return slugs


def _org_shapes():
    """{org id: (slug, [(user id, email)], [(connector id, name)])}."""
    from orgconnectors.connectors.models import Connector
    from orgconnectors.organizations.models import Membership, Organization

    people: dict[int, list] = {}
    for org_id, user_id, email in Membership.objects.order_by("pk").values_list(
        "organization_id", "user_id", "user__email"
    ):
        people.setdefault(org_id, []).append((user_id, email))
    connectors: dict[int, list] = {}
    for org_id, pk, name in Connector.objects.order_by("pk").values_list(
        "organization_id", "pk", "name"
    ):
        connectors.setdefault(org_id, []).append((pk, name))
    return {
        pk: (slug, people[pk], connectors[pk])
        for pk, slug in Organization.objects.values_list("pk", "slug")
    }


# (action, outcome, target type, actor kind) and how often, roughly as the application writes.
ACTIONS = [
    ("connection.enabled", "success", "connection", "member", 20),
    ("connection.disabled", "success", "connection", "member", 10),
    ("oauth.authorized", "success", "connection", "member", 10),
    ("oauth.refreshed", "success", "connection", "system", 30),
    ("oauth.refresh_failed", "failure", "connection", "system", 2),
    ("connector.health_changed", "success", "connector", "system", 10),
    ("connector.updated", "success", "connector", "owner", 5),
    ("connector.tool_policy_changed", "success", "connector", "owner", 3),
    ("api_token.created", "success", "api_token", "member", 5),
    ("membership.role_changed", "success", "membership", "owner", 2),
    ("invitation.created", "success", "invitation", "owner", 3),
]
WEIGHTED = [a for a in ACTIONS for _ in range(a[4])]


def _pick_org(i: int, total: int, big: int, ids: list[int]) -> int:
    """Org of the i-th event of `total` in time order: bigco every total/big-th event, smallco
    evenly SMALL_EVENTS times among the rest, the others round-robin."""
    every = total // big
    if i % every == 0:
        return ids[0]
    k = i - i // every - 1
    rest = total - big
    if k % max(rest // SMALL_EVENTS, 1) == 0:
        return ids[1]
    return ids[2 + k % (len(ids) - 2)]


def _seed_audit(shapes: dict, total: int, big: int, now: datetime) -> None:
    from django.db import connection

    from orgconnectors.audit.chain import GENESIS, event_hash
    from orgconnectors.audit.models import AuditChainHead

    ids = sorted(shapes, key=lambda pk: {"bigco": 0, "smallco": 1}.get(shapes[pk][0], 2))
    heads = {pk: [GENESIS, None, 0] for pk in shapes}
    start = now - SPAN
    columns = (
        "id", "organization_id", "actor_id", "actor_label", "action", "outcome", "target_type",
        "target_id", "target_label", "connector_ref", "member_ref", "ip", "user_agent",
        "changes", "created_at", "seq", "prev_hash", "hash",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM audit_auditevent")
        next_id = cursor.fetchone()[0] + 1
        started = time.monotonic()
        with cursor.cursor.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(total):
                org_id = _pick_org(i, total, big, ids)
                _slug, people, connectors = shapes[org_id]
                head = heads[org_id]
                n = head[2]  # the organization's own count, so each gets every kind of event
                action, outcome, target_type, who, _ = WEIGHTED[(n * 7) % len(WEIGHTED)]
                person_id, email = people[2 + (n * 13) % (len(people) - 2)]
                connector_id, connector_name = connectors[(n * 5 + n // 20) % len(connectors)]
                actor_id, label = {
                    "member": (person_id, email),
                    "owner": people[0],
                    "system": (None, "token refresh" if "oauth" in action else "health check"),
                }[who]
                connector_ref = connector_id if target_type in ("connection", "connector") else None
                member_ref = person_id if target_type in ("connection", "membership") else None
                target_label = {
                    "connection": f"{email} · {connector_name}",
                    "connector": connector_name,
                    "api_token": f"Script {i % 50} (oc_{i % 9973:04d}…)",
                    "membership": email,
                    "invitation": f"invitee{i % 1000}@example.com",
                }[target_type]
                values = {
                    "organization_id": org_id,
                    "seq": n + 1,
                    "actor_label": label,
                    "action": action,
                    "outcome": outcome,
                    "target_type": target_type,
                    "target_id": str(connector_ref or member_ref or i % 100_000),
                    "target_label": target_label,
                    "connector_ref": connector_ref,
                    "member_ref": member_ref,
                    "ip": None if who == "system" else f"198.51.100.{i % 250 + 1}",
                    "user_agent": "" if who == "system" else "Mozilla/5.0 (bench)",
                    "changes": {"state": {"before": "disabled", "after": "enabled"}},
                    "created_at": start + SPAN * (i + 0.5) / total,
                }
                digest = event_hash(values, head[0])
                copy.write_row((
                    next_id, org_id, actor_id, label, action, outcome, target_type,
                    values["target_id"], target_label, connector_ref, member_ref, values["ip"],
                    values["user_agent"], json.dumps(values["changes"]), values["created_at"],
                    n + 1, head[0], digest,
                ))  # fmt: skip
                heads[org_id] = [digest, next_id, head[2] + 1]
                next_id += 1
                if i and i % 200_000 == 0:
                    say(f"   {i:,} audit events ({time.monotonic() - started:.0f} s)")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", [next_id]
        )
    AuditChainHead.objects.bulk_create(
        [
            AuditChainHead(organization_id=pk, last_hash=h, last_event_id=last, appended=n)
            for pk, (h, last, n) in heads.items()
            if n
        ],
        batch_size=5000,
    )


def _seed_usage(shapes: dict, total: int, big: int, now: datetime) -> None:
    """One INSERT ... SELECT over generate_series, in time order like real traffic."""
    from django.db import connection

    ids = sorted(shapes, key=lambda pk: {"bigco": 0, "smallco": 1}.get(shapes[pk][0], 2))
    every = total // big
    rest = total - big
    small_every = max(rest // SMALL_EVENTS, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_orgs (idx int PRIMARY KEY, org_id bigint, "
            "users bigint[], connectors bigint[])"
        )
        for idx, pk in enumerate(ids):
            _slug, people, connectors = shapes[pk]
            cursor.execute(
                "INSERT INTO bench_orgs VALUES (%s, %s, %s, %s)",
                [idx, pk, [p[0] for p in people], [c[0] for c in connectors]],
            )
        others = len(ids) - 2
        cursor.execute(
            f"""
            INSERT INTO audit_usageevent
                (organization_id, kind, user_id, connector_id, api_token_id, ip, created_at,
                 details)
            SELECT o.org_id,
                   (ARRAY['configuration', 'configuration', 'configuration', 'configuration',
                          'token_refresh', 'token_refresh', 'authorization', 'health'])
                       [1 + mod(s.n * 7, 8)],
                   CASE WHEN mod(s.n * 7, 8) = 7 THEN NULL
                        ELSE o.users[1 + mod(s.n * 13, array_length(o.users, 1))] END,
                   o.connectors[1 + mod(s.n * 5 + s.n / 20, array_length(o.connectors, 1))],
                   NULL,
                   CASE WHEN mod(s.n * 7, 8) = 7 THEN NULL ELSE '203.0.113.7'::inet END,
                   %s::timestamptz + %s::interval * ((s.g + 0.5) / %s)::float8,
                   '{{}}'::jsonb
            FROM (
                -- idx: which organization (0 bigco, 1 smallco, 2… the others); n: the event's
                -- number within it, so each organization gets every person and connector.
                SELECT g,
                       CASE WHEN mod(g, {every}) = 0 THEN 0
                            WHEN mod(g - g / {every} - 1, {small_every}) = 0 THEN 1
                            ELSE 2 + mod(g - g / {every} - 1, {others}) END AS idx,
                       CASE WHEN mod(g, {every}) = 0 THEN g / {every}
                            WHEN mod(g - g / {every} - 1, {small_every}) = 0
                                THEN (g - g / {every} - 1) / {small_every}
                            ELSE (g - g / {every} - 1) / {others} END AS n
                FROM generate_series(0, %s - 1) AS g
            ) AS s
            JOIN bench_orgs AS o ON o.idx = s.idx
            ORDER BY s.g
            """,
            [now - SPAN, SPAN, total, total],
        )


def _seed_health(shapes: dict, now: datetime) -> None:
    """Daily rollups for 83 days and a check every 5 minutes for 7 days, in bigco and smallco."""
    from django.db import connection

    connector_ids = [
        c[0] for pk, (slug, _p, cs) in shapes.items() if slug in ("bigco", "smallco") for c in cs
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO health_healthdailyrollup
                (connector_id, day, checks, up_checks, p50_latency_ms, p95_latency_ms)
            SELECT c, (%s::date - d), 288, 288 - mod(c + d, 3), 120, 300
            FROM unnest(%s::bigint[]) AS c, generate_series(8, 90) AS d
            """,
            [now.date(), connector_ids],
        )
        cursor.execute(
            """
            INSERT INTO health_healthcheck
                (connector_id, organization_id, checked_at, outcome, error, latency_ms,
                 transport, protocol_version, server_name, server_version, notes, oauth)
            SELECT c.id, c.organization_id, %s::timestamptz - n * interval '5 minutes',
                   CASE WHEN mod(c.id + n, 97) = 0 THEN 'unreachable' ELSE 'healthy' END,
                   '', 120, 'streamable_http', '2025-11-25', 'bench', '1', '[]', '{}'
            FROM connectors_connector AS c, generate_series(0, 7 * 288 - 1) AS n
            WHERE c.id = ANY(%s)
            """,
            [now, connector_ids],
        )


def seed(scale: float) -> None:
    from django.db import connection

    from orgconnectors.audit.usage import usage_rollup

    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    audit_total, usage_total = int(AUDIT_TOTAL * scale), int(USAGE_TOTAL * scale)
    big_audit, big_usage = int(BIG_AUDIT * scale), int(BIG_USAGE * scale)
    started = time.monotonic()
    say("Seeding organizations, people and connectors…")
    _people_and_connectors(scale)
    shapes = _org_shapes()
    say(f"Seeding {audit_total:,} audit events (hash-chained, COPY)…")
    _seed_audit(shapes, audit_total, big_audit, now)
    say(f"Seeding {usage_total:,} usage events (INSERT … SELECT generate_series)…")
    t = time.monotonic()
    _seed_usage(shapes, usage_total, big_usage, now)
    say(f"   {time.monotonic() - t:.0f} s")
    say("Seeding health checks and rollups…")
    _seed_health(shapes, now)
    say("Counting usage per day (the beat task's rollup, over every event at once)…")
    t = time.monotonic()
    usage_rollup(now=now + timedelta(minutes=5))
    rollup_seconds = time.monotonic() - t
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    (ROOT / "var" / "bench" / "audit-seed.json").write_text(
        json.dumps({"seconds": time.monotonic() - started, "rollup_seconds": rollup_seconds})
    )
    say(f"Seeded in {time.monotonic() - started:.0f} s (rollup {rollup_seconds:.1f} s).")


def seeded() -> bool:
    from orgconnectors.organizations.models import Organization

    return Organization.objects.filter(slug="bigco").exists()


# Measuring -------------------------------------------------------------------------------------


def _client(slug: str):
    from django.test import Client

    from orgconnectors.organizations.models import Membership

    auditor = Membership.objects.select_related("user").get(organization__slug=slug, role="auditor")
    client = Client()
    client.force_login(auditor.user)
    return client


def _first_page(response) -> int:
    """Reads a streamed export up to its first page of rows (the CSV header comes first)."""
    chunks = iter(response.streaming_content)
    size = len(next(chunks)) + len(next(chunks))
    response.close()
    return size


def _request(client, url: str, params: dict, *, streamed: bool):
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    if streamed:
        _first_page(response)
    return response


def measure_pages(explain: bool) -> list[tuple]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    month_ago = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    today = datetime.now(UTC).date().isoformat()
    cases = [
        ("audit list", "audit_list", {}, False),
        # An actor with enough events in smallco too, so both pages show 50 rows.
        ("filtered list (actor + dates)", "audit_list",
         {"actor": "refresh", "date_from": month_ago, "date_to": today}, False),
        ("usage page (30 days)", "usage", {}, False),
        ("usage events list", "usage_events", {}, False),
        ("search on target names (30 days)", "audit_list",
         {"target": "Connector 07", "date_from": month_ago}, False),
        ("export, first page (30 days, CSV)", "audit_export",
         {"format": "csv", "date_from": month_ago}, True),
    ]  # fmt: skip
    clients = {slug: _client(slug) for slug in ("bigco", "smallco")}
    rows, plans = [], []
    for label, name, params, streamed in cases:
        timings: dict[str, list[float]] = {"bigco": [], "smallco": []}
        queries: dict[str, int] = {}
        for slug, client in clients.items():
            url = reverse(name, args=[slug])
            for _ in range(3):  # warm the caches, the connection, the templates
                _request(client, url, params, streamed=streamed)
            with CaptureQueriesContext(connection) as captured:
                _request(client, url, params, streamed=streamed)
            queries[slug] = len(captured)
            if explain and slug == "bigco":
                plans.append((label, [q["sql"] for q in captured.captured_queries]))
        for _ in range(RUNS):
            for slug, client in clients.items():
                url = reverse(name, args=[slug])
                started = time.perf_counter()
                _request(client, url, params, streamed=streamed)
                timings[slug].append(1000 * (time.perf_counter() - started))
        big, small = statistics.median(timings["bigco"]), statistics.median(timings["smallco"])
        rows.append((label, big, small, big / small, queries["bigco"], queries["smallco"]))
    if explain:
        _write_plans(plans)
    return rows


def _write_plans(plans) -> None:
    from django.db import connection, transaction

    out = ROOT / "var" / "bench" / "audit-plans.txt"
    lines = []
    for label, statements in plans:
        lines.append(f"######## {label}")
        for sql in statements:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            lines += [sql, plan, ""]
    out.write_text("\n".join(lines))
    say(f"Plans written to {out.relative_to(ROOT)}")


def measure_writes() -> list[tuple[str, float]]:
    """Microseconds per write, as a request pays them."""
    from django.db import transaction

    from orgconnectors.audit.services import audit_record
    from orgconnectors.audit.usage import usage_record, usage_record_many
    from orgconnectors.connectors.models import Connector
    from orgconnectors.core.actor import Actor
    from orgconnectors.organizations.models import Organization

    org = Organization.objects.get(slug="bigco")
    connectors = list(Connector.objects.filter(organization=org)[:10])

    def timed(call, n=200) -> float:
        for _ in range(10):
            call()
        started = time.perf_counter()
        for _ in range(n):
            call()
        return 1e6 * (time.perf_counter() - started) / n

    def empty_transaction():
        with transaction.atomic():
            pass

    def usage_in_transaction():
        with transaction.atomic():
            usage_record(organization=org, kind="configuration", connector=connectors[0])

    def ten_in_transaction():
        with transaction.atomic():
            usage_record_many(organization=org, kind="configuration", connectors=connectors)

    def audit_in_transaction():
        with transaction.atomic():
            audit_record(
                organization=org, actor=Actor.system("bench"), action="connector.updated",
                target=connectors[0],
            )  # fmt: skip

    base = timed(empty_transaction)
    return [
        ("empty transaction (the baseline)", base),
        ("+ usage_record (INSERT after the commit)", timed(usage_in_transaction) - base),
        ("+ usage_record_many, 10 connectors (one INSERT)", timed(ten_in_transaction) - base),
        ("+ audit_record (head lock, INSERT, head UPDATE)", timed(audit_in_transaction) - base),
    ]  # fmt: skip


def measure_full_export() -> dict:
    from orgconnectors.core.actor import Actor
    from orgconnectors.organizations.models import Membership
    from orgconnectors.reports import tasks
    from orgconnectors.reports.export_jobs import export_dir, export_request
    from orgconnectors.reports.models import ExportJob
    from orgconnectors.reports.usage_selectors import UsageFilters

    auditor = Membership.objects.select_related("organization", "user").get(
        organization__slug="bigco", role="auditor"
    )
    # The worker process below runs the job; nothing is left in the broker for another one.
    tasks.export_run.delay = lambda **kwargs: None
    request = export_request(
        membership=auditor, source="usage", fmt="csv", filters=UsageFilters(),
        actor=Actor.system("bench"),
    )  # fmt: skip
    job = request.job
    if job is None:  # a --scale run too small for the stream limit: the same job by hand
        job = ExportJob.objects.create(
            organization=auditor.organization, requested_by=auditor.user, source="usage",
            format="csv",
        )  # fmt: skip
    worker = subprocess.run(
        [sys.executable, __file__, "--export-worker", str(job.pk)],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=True,
    )
    job.refresh_from_db()
    (export_dir() / job.file_name).unlink(missing_ok=True)
    return json.loads(worker.stdout.strip().splitlines()[-1])


def export_worker(job_id: int) -> None:
    """Runs in its own process, like a Celery worker: writes the export, reports its memory."""
    import django

    django.setup()
    from orgconnectors.reports.export_jobs import export_dir, export_job_run
    from orgconnectors.reports.models import ExportJob

    baseline = _vm("VmRSS")
    started = time.monotonic()
    rows = export_job_run(job_id=job_id)
    seconds = time.monotonic() - started
    job = ExportJob.objects.get(pk=job_id)
    size = (export_dir() / job.file_name).stat().st_size
    print(json.dumps({
        "rows": rows, "seconds": seconds, "bytes": size,
        "rss_before_kb": baseline, "peak_rss_kb": _vm("VmHWM"),
    }))  # fmt: skip


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure_verify() -> tuple[int, float]:
    from orgconnectors.audit.chain import audit_chain_verify
    from orgconnectors.organizations.models import Organization

    started = time.monotonic()
    report = audit_chain_verify(organization=Organization.objects.get(slug="bigco"))
    assert report.intact, report.broken
    return report.events, time.monotonic() - started


def sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relname IN ('audit_auditevent', 'audit_usageevent', 'audit_usageday')"
        )
        return {name: (rows, size) for name, rows, size in cursor.fetchall()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true", help="Drop the bench database first.")
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the rows to seed.")
    parser.add_argument("--explain", action="store_true", help="Write the query plans.")
    parser.add_argument("--export-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = bench_url()
    if args.export_worker:
        export_worker(args.export_worker)
        return
    ensure_database(os.environ["DATABASE_URL"], reseed=args.reseed)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if settings.DEBUG:
        sys.exit("Run the bench with DJANGO_DEBUG=0: debug mode keeps every query in memory.")
    call_command("migrate", verbosity=0)
    if not seeded():
        seed(args.scale)
    for table, (rows, size) in sorted(sizes().items()):
        say(f"{table}: ~{rows:,} rows, {size / 2**20:,.0f} MB with its indexes")

    say(f"\nPages, bigco vs smallco, median of {RUNS} (ms):")
    say(f"{'':38} {'bigco':>8} {'smallco':>8} {'ratio':>6} {'queries':>9}")
    for label, big, small, ratio, q_big, q_small in measure_pages(args.explain):
        say(f"{label:38} {big:8.1f} {small:8.1f} {ratio:5.2f}x {q_big:4d}/{q_small:<4d}")

    say("\nWrites, µs added to a request's transaction:")
    for label, micros in measure_writes():
        say(f"  {label:56} {micros:8.0f}")

    events, seconds = measure_verify()
    say(f"\nverify_audit_chain --org bigco: {events:,} events in {seconds:.1f} s")
    seed_figures = ROOT / "var" / "bench" / "audit-seed.json"
    if seed_figures.exists():
        rollup = json.loads(seed_figures.read_text())["rollup_seconds"]
        say(f"usage rollup of every usage event at once (seeding): {rollup:.1f} s")

    say("\nFull export of bigco's usage events (CSV) in a worker process…")
    figures = measure_full_export()
    say(
        f"  {figures['rows']:,} rows, {figures['bytes'] / 2**20:,.0f} MB in "
        f"{figures['seconds']:.0f} s; peak RSS {figures['peak_rss_kb'] / 1024:.0f} MB "
        f"(after start-up {figures['rss_before_kb'] / 1024:.0f} MB)"
    )


if __name__ == "__main__":
    main()
