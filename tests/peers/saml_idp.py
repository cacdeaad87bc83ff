"""A real SAML 2.0 identity provider on loopback: pysaml2's IdP (`saml2.server.Server`) behind
a small http.server in a thread on 127.0.0.1.

- GET /metadata: its metadata (signing certificate, HTTP-Redirect sign-in endpoint).
- GET /sso/redirect?SAMLRequest=...&RelayState=...: takes a service provider's AuthnRequest
  (HTTP-Redirect binding), signs in the person the test chose with `login_as`, and answers with
  a signed Response by the HTTP-POST binding: an auto-submitting HTML form to the SP's ACS. A
  test with Django's test client reads the form (`posted_form`) and posts it to the ACS; in a
  browser (tests/e2e) the page submits it by itself.
- GET /documents/NAME: whatever the test put in `documents` (metadata tests).

The key and certificate are made when the peer starts (`cryptography`), never committed.
pysaml2 signs with xmlsec1 (/usr/bin/xmlsec1).
"""

import base64
import datetime
import html
import re
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

XMLSEC1 = "/usr/bin/xmlsec1"
# An attribute converter with no names of its own: attributes go out named as given.
AS_IS = AttributeConverter()
AS_IS.from_dict({"identifier": NAME_FORMAT_URI, "fro": {}, "to": {}})
PASSWORD_AUTHN = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def make_key_and_certificate(directory: Path, name: str) -> tuple[Path, Path, str]:
    """A fresh RSA key and self-signed certificate in `directory`: (key file, cert file, the
    certificate as base64 DER, as metadata carries it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return key_file, cert_file, der


@dataclass
class Person:
    email: str
    first_name: str = ""
    last_name: str = ""

    def attributes(self, style: str = "oid") -> dict[str, list[str]]:
        """The attribute statement, named as a kind of identity provider names them."""
        if style == "oid":
            # Friendly names; pysaml2's attribute maps send them as SAML's OIDs (URI name
            # format), e.g. mail = urn:oid:0.9.2342.19200300.100.1.3 (Keycloak's URI format).
            return {"mail": [self.email], "givenName": [self.first_name], "sn": [self.last_name]}
        if style == "entra":  # Microsoft Entra ID's default claims
            claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
            return {
                f"{claims}/emailaddress": [self.email],
                f"{claims}/givenname": [self.first_name],
                f"{claims}/surname": [self.last_name],
                "http://schemas.microsoft.com/identity/claims/objectidentifier": [
                    f"oid-{self.email}"
                ],
            }
        if style == "okta":  # the names Okta's and Google Workspace's setup guides suggest
            return {
                "email": [self.email],
                "firstName": [self.first_name],
                "lastName": [self.last_name],
            }
        if style == "nameid":  # nothing but the emailAddress NameID
            return {}
        raise ValueError(style)


@dataclass
class PostedForm:
    """What the IdP's auto-submitting form would post."""

    action: str
    saml_response: str
    relay_state: str | None

    def data(self) -> dict[str, str]:
        data = {"SAMLResponse": self.saml_response}
        if self.relay_state is not None:
            data["RelayState"] = self.relay_state
        return data


def posted_form(page: str) -> PostedForm:
    """The action and fields of the HTML form pysaml2's HTTP-POST binding answers with."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    fields = dict(
        (name, html.unescape(value))
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
    )
    assert action and "SAMLResponse" in fields, page
    return PostedForm(
        html.unescape(action.group(1)), fields["SAMLResponse"], fields.get("RelayState")
    )


@dataclass
class SamlIdp:
    url: str
    server: ThreadingHTTPServer
    thread: threading.Thread
    directory: tempfile.TemporaryDirectory
    idp: Server = None
    certificate: str = ""  # base64 DER, as in its metadata
    person: Person | None = None
    documents: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    # What the tests may change to make a bad response.
    sign_response: bool = True
    sign_assertion: bool = True
    attribute_style: str = "oid"  # see Person.attributes
    requests_seen: list = field(default_factory=list)
    trusted_sps: list[str] = field(default_factory=list)
    published_metadata: str = ""
    oid_converters: list = field(default_factory=list)
    # Called in the server's thread while a document is being fetched (a concurrent change).
    while_serving: object = None

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/metadata"

    @property
    def entity_id(self) -> str:
        return self.metadata_url

    def metadata(self) -> str:
        if not self.published_metadata:  # made once: an impostor key is never published
            self.published_metadata = create_metadata_string(
                None, config=self.idp.config, sign=False
            ).decode()
        return self.published_metadata

    def login_as(self, email: str, first_name: str = "", last_name: str = "") -> None:
        """The person the next sign-in request authenticates (no login form to fill in)."""
        self.person = Person(email, first_name, last_name)

    def trust_sp(self, sp_metadata: str) -> None:
        """Register a service provider from its metadata, as an admin does in their IdP."""
        self.trusted_sps.append(sp_metadata)
        self.idp.metadata.load("inline", sp_metadata)

    def serve(self, name: str, body: bytes, status: int = 200) -> str:
        self.documents[name] = (status, body)
        return f"{self.url}/documents/{name}"

    def resign_with_another_key(self, *, publish: bool = False) -> None:
        """From now on sign with a new key. Unpublished, it is an impostor's (same entity id and
        endpoints, a key not in the metadata); published, a certificate rollover: /metadata
        then carries the new certificate."""
        name = f"key-{len(self.trusted_sps)}-{id(self)}-{publish}"
        key_file, cert_file, certificate = make_key_and_certificate(Path(self.directory.name), name)
        self.idp = _server(self.url, key_file, cert_file)
        self.oid_converters = self.idp.config.attribute_converters
        for sp_metadata in self.trusted_sps:
            self.idp.metadata.load("inline", sp_metadata)
        if publish:
            self.certificate = certificate
            self.published_metadata = ""

    def answer(self, saml_request: str, relay_state: str | None) -> str:
        """The HTML page answering a sign-in request (HTTP-Redirect binding)."""
        request = self.idp.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        self.requests_seen.append(request)
        args = self.idp.response_args(request, [BINDING_HTTP_POST])
        return self._post_page(
            in_response_to=args["in_response_to"],
            destination=args["destination"],
            sp_entity_id=args["sp_entity_id"],
            relay_state=relay_state,
        )

    def unsolicited(self, *, acs_url: str, sp_entity_id: str, relay_state: str = "") -> str:
        """An IdP-initiated response: answers no request."""
        return self._post_page(
            in_response_to=None,
            destination=acs_url,
            sp_entity_id=sp_entity_id,
            relay_state=relay_state,
        )

    def _post_page(self, *, in_response_to, destination, sp_entity_id, relay_state) -> str:
        assert self.person is not None, "call login_as(...) first"
        # Other styles send their names as they are: pysaml2's maps would turn "firstName"
        # into an eIDAS URI and "email" into a PKCS#9 OID, which no such provider sends.
        self.idp.config.attribute_converters = (
            self.oid_converters if self.attribute_style == "oid" else [AS_IS]
        )
        response = self.idp.create_authn_response(
            identity=self.person.attributes(self.attribute_style),
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            userid=self.person.email,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=self.person.email),
            authn={"class_ref": PASSWORD_AUTHN, "authn_auth": self.entity_id},
            sign_response=self.sign_response,
            sign_assertion=self.sign_assertion,
            sign_alg=xmldsig.SIG_RSA_SHA256,
            digest_alg=xmldsig.DIGEST_SHA256,
        )
        http_args = self.idp.apply_binding(
            BINDING_HTTP_POST, str(response), destination, relay_state or "", response=True
        )
        return http_args["data"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
        self.directory.cleanup()


def _handler(peer_ref: dict):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass  # the test's output is quiet

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - http.server's name
            peer: SamlIdp = peer_ref["peer"]
            parts = urlsplit(self.path)
            if parts.path == "/metadata":
                self._send(200, peer.metadata().encode(), "application/samlmetadata+xml")
            elif parts.path == "/sso/redirect":
                query = parse_qs(parts.query)
                try:
                    page = peer.answer(query["SAMLRequest"][0], query.get("RelayState", [None])[0])
                except Exception as failed:  # noqa: BLE001 - shown to the test, not swallowed
                    self._send(500, repr(failed).encode(), "text/plain")
                    return
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif parts.path.startswith("/documents/") and parts.path[11:] in peer.documents:
                status, body = peer.documents[parts.path[11:]]
                if peer.while_serving is not None:
                    peer.while_serving()
                self._send(status, body, "application/xml")
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


def _server(url: str, key_file: Path, cert_file: Path) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{url}/metadata",
            "xmlsec_binary": XMLSEC1,
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "service": {
                "idp": {
                    "name": "Loopback IdP",
                    "endpoints": {
                        "single_sign_on_service": [(f"{url}/sso/redirect", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": False,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 5},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
            "metadata": {},
        }
    )
    return Server(config=config)


def start_saml_idp() -> SamlIdp:
    peer_ref: dict = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(peer_ref))
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    directory = tempfile.TemporaryDirectory(prefix="saml-idp-")
    key_file, cert_file, certificate = make_key_and_certificate(Path(directory.name), "idp")
    thread = threading.Thread(target=server.serve_forever, name="saml-idp", daemon=True)
    peer = SamlIdp(url, server, thread, directory, _server(url, key_file, cert_file), certificate)
    peer.oid_converters = peer.idp.config.attribute_converters
    peer_ref["peer"] = peer
    thread.start()
    return peer
