"""The demo's own certificate authority, so its MCP and OAuth servers speak https offline.

`run_dev` makes it under var/demo-ca/ the first time and reuses it after: ca.pem (the authority
the dashboard and workers trust through ORGCONNECTORS_EGRESS_CA_FILE), server.pem and
server.key (what the demo servers present). The authority may only vouch for 127.0.0.1, ::1
and localhost (a critical name constraint), so trusting it in a browser, or its key leaking
from var/, can never make another site look genuine. No Django here.
"""

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 5 * 365
SERVER_DAYS = 365
# A certificate this close to its end is made again, so a running demo never sees it expire.
RENEW_DAYS = 30
LOOPBACK_NAMES = (
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.IPAddress(ipaddress.ip_address("::1")),
)
PERMITTED = (
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
    x509.IPAddress(ipaddress.ip_network("::1/128")),
)


@dataclass(frozen=True)
class DemoTLS:
    ca_file: Path  # the authority's certificate: what clients trust
    cert_file: Path  # the servers' certificate
    key_file: Path  # the servers' private key


def _files(directory: Path) -> tuple[Path, Path, Path, Path]:
    return (
        directory / "ca.pem",
        directory / "ca.key",
        directory / "server.pem",
        directory / "server.key",
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=ca,
        crl_sign=ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def _make_ca(now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("orgconnectors demo authority (127.0.0.1 and localhost only)")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.NameConstraints(list(PERMITTED), None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_server(
    now: dt.datetime, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(list(LOOPBACK_NAMES)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    """Whole or not at all (a crash leaves the old file), keys readable by their owner only."""
    partial = path.with_name(path.name + ".partial")
    # A leftover of a crash keeps its mode through O_CREAT: start from no file.
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.replace(partial, path)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _lasts(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_after_utc - now > dt.timedelta(days=RENEW_DAYS)


def _load_ca(directory: Path, now: dt.datetime):
    ca_file, ca_key_file, _, _ = _files(directory)
    try:
        cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
        key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    except (OSError, ValueError):
        return None  # missing or damaged: a new authority
    if cert.public_key() != key.public_key() or not _lasts(cert, now):
        return None
    return cert, key


def _server_still_good(directory: Path, ca_cert: x509.Certificate, now: dt.datetime) -> bool:
    _, _, cert_file, key_file = _files(directory)
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    return cert.public_key() == key.public_key() and _lasts(cert, now)


def demo_tls(directory: Path) -> DemoTLS:
    """The demo's authority and server certificate in `directory`: made the first time, and
    again only when a file is missing, damaged or near its end."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, ca_key_file, cert_file, key_file = _files(directory)
    now = dt.datetime.now(dt.UTC)
    authority = _load_ca(directory, now)
    if authority is None:
        ca_cert, ca_key = _make_ca(now)
        _write(ca_key_file, _key_pem(ca_key), secret=True)
        _write(ca_file, _pem(ca_cert))
    else:
        ca_cert, ca_key = authority
    if authority is None or not _server_still_good(directory, ca_cert, now):
        cert, key = _make_server(now, ca_cert, ca_key)
        _write(key_file, _key_pem(key), secret=True)
        _write(cert_file, _pem(cert))
    return DemoTLS(ca_file, cert_file, key_file)
