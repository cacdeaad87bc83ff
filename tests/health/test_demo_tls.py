"""The demo over https: its certificate authority (orgconnectors/demo/tls.py), made once and
reused, vouching only for loopback; and seed_demo moving connectors of an older demo from http."""

import datetime as dt
import ipaddress
import stat
from io import StringIO

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from django.core.management import call_command
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.demo.catalog import DEMO_SERVERS, demo_server
from orgconnectors.demo.management.commands import run_dev
from orgconnectors.demo.tls import RENEW_DAYS, SERVER_DAYS, demo_tls
from orgconnectors.egress.trust import check_ca_file
from orgconnectors.encryption import encrypt
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory


def _contents(tls) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in tls.ca_file.parent.iterdir()}


def _verify(tls, leaf: x509.Certificate, name) -> None:
    ca = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(name)
    verifier.verify(leaf, [])


def test_the_demo_authority_is_made_the_first_time_and_reused_after(tmp_path):
    first = demo_tls(tmp_path / "demo-ca")
    made = _contents(first)

    again = demo_tls(tmp_path / "demo-ca")

    assert sorted(made) == ["ca.key", "ca.pem", "server.key", "server.pem"]
    assert _contents(again) == made
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((tmp_path / "demo-ca" / key).stat().st_mode) == 0o600
    server = x509.load_pem_x509_certificate(again.cert_file.read_bytes())
    for name in (x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")):
        _verify(again, server, name)


def test_a_server_certificate_near_its_end_is_made_again_by_the_same_authority(tmp_path):
    tls = demo_tls(tmp_path)
    made = _contents(tls)

    with time_machine.travel(timezone.now() + dt.timedelta(days=SERVER_DAYS - RENEW_DAYS + 1)):
        renewed = _contents(demo_tls(tmp_path))

    assert renewed["ca.pem"] == made["ca.pem"]
    assert renewed["server.pem"] != made["server.pem"]


def test_a_damaged_file_is_made_again(tmp_path):
    tls = demo_tls(tmp_path)
    tls.key_file.write_text("not a key")

    again = demo_tls(tmp_path)

    key = serialization.load_pem_private_key(again.key_file.read_bytes(), password=None)
    server = x509.load_pem_x509_certificate(again.cert_file.read_bytes())
    assert key.public_key() == server.public_key()


def test_the_demo_authority_cannot_vouch_for_any_other_site(tmp_path):
    tls = demo_tls(tmp_path)
    ca_key = serialization.load_pem_private_key((tmp_path / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bank.example")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("bank.example")]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    with pytest.raises(VerificationError, match="no permitted name constraints matched"):
        _verify(tls, forged, x509.DNSName("bank.example"))


def test_seed_demo_moves_the_connectors_of_an_older_http_demo_to_https(db, settings):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = True
    call_command("seed_demo", stdout=StringIO())
    acme = Connector.objects.filter(organization__slug="acme")
    # As an older seed_demo left them: the same connectors at http:// addresses.
    for demo in DEMO_SERVERS:
        acme.filter(url=demo.url()).update(url=demo.http_url(), status="healthy")
    tracker = acme.get(url=demo_server("tracker").http_url())
    tasks = acme.get(url=demo_server("tasks").http_url())
    connected = Connection.objects.filter(connector=tracker, state="enabled")
    before = sorted(connected.values_list("pk", flat=True))
    tasks_connection = ConnectionFactory(
        membership=MembershipFactory(organization=tasks.organization), connector=tasks
    )
    client = OAuthClient.objects.create(
        connector=tasks,
        issuer="http://127.0.0.1:8704",
        kind=OAuthClient.Kind.DYNAMIC,
        client_id="old",
        authorization_endpoint="http://127.0.0.1:8704/authorize",
        token_endpoint="http://127.0.0.1:8704/token",
    )
    OAuthCredential.objects.create(
        connection=tasks_connection,
        client=client,
        access_token_encrypted=encrypt("an http-era token"),
        obtained_at=timezone.now(),
    )

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    for demo in DEMO_SERVERS:
        moved = acme.get(url=demo.url())
        assert moved.url.startswith("https://127.0.0.1:")
        assert moved.status == "unchecked" and moved.next_check_at <= timezone.now()
    assert acme.get(url=demo_server("tracker").url()).pk == tracker.pk
    assert sorted(connected.values_list("pk", flat=True)) == before
    tasks_connection.refresh_from_db()
    assert tasks_connection.state == "needs_authorization"
    assert not OAuthCredential.objects.filter(connection=tasks_connection).exists()
    assert not OAuthClient.objects.filter(connector=tasks).exists()
    moves = AuditEvent.objects.filter(action="connector.updated", target_id=str(tracker.pk))
    old_url, new_url = demo_server("tracker").http_url(), demo_server("tracker").url()
    assert [event.changes for event in moves] == [{"url": {"before": old_url, "after": new_url}}]
    assert acme.count() == 3 + len(DEMO_SERVERS)


def test_seed_demo_leaves_a_connector_of_the_same_http_address_when_the_https_one_exists(
    db, settings
):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = True
    call_command("seed_demo", stdout=StringIO())
    tracker = demo_server("tracker")
    organization = Connector.objects.get(url=tracker.url()).organization
    registered = ConnectorFactory(organization=organization, url=tracker.http_url())

    call_command("seed_demo", stdout=StringIO())

    registered.refresh_from_db()
    assert registered.url == tracker.http_url()


def test_run_dev_has_its_children_trust_the_demo_authority_and_one_already_set(settings, tmp_path):
    demo = demo_tls(tmp_path / "demo-ca")
    own = demo_tls(tmp_path / "own-ca").ca_file
    settings.ORGCONNECTORS_EGRESS_CA_FILE = ""
    alone = run_dev._trust(demo)
    settings.ORGCONNECTORS_EGRESS_CA_FILE = str(own)

    both = run_dev._trust(demo)

    assert alone == demo.ca_file
    assert check_ca_file(str(both)) == 2
    assert both.read_bytes().startswith(own.read_bytes().rstrip())
    children = run_dev._children(8000, "solo", demo.ca_file.parent)
    mcp = next(child for child in children if child.name == "mcp")
    assert mcp.argv[-2:] == ["--tls-dir", str(demo.ca_file.parent)]
