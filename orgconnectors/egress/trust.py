"""The certificate authorities every outbound TLS connection trusts.

The public roots (certifi's bundle, which httpx uses, and the system's store, which httpx2 uses),
plus the PEM bundle of ORGCONNECTORS_EGRESS_CA_FILE for organizations whose MCP and authorization
servers carry certificates from their own authority. Nothing else is trusted: no SSL_CERT_FILE or
SSL_CERT_DIR from the environment, as the guarded clients never read the environment.
"""

import functools
import os
import ssl

import certifi

from orgconnectors.egress.guard import EgressError, read_setting

CA_FILE_SETTING = "ORGCONNECTORS_EGRESS_CA_FILE"


class CAFileError(EgressError):
    """The extra CA bundle cannot be used."""


def _load_ca_file(context: ssl.SSLContext, path: str) -> None:
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError:  # an OSError too, so first
        raise CAFileError(
            f"{CA_FILE_SETTING}={path} holds no PEM certificate; it must be a bundle of "
            "-----BEGIN CERTIFICATE----- blocks."
        ) from None
    except FileNotFoundError:
        raise CAFileError(f"{CA_FILE_SETTING}={path} names a file that does not exist.") from None
    except OSError as error:
        raise CAFileError(
            f"{CA_FILE_SETTING}={path} cannot be read ({error.strerror or error})."
        ) from None


def check_ca_file(path: str) -> int:
    """How many certificates the bundle at `path` holds; CAFileError with a sentence if none."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _load_ca_file(context, path)
    return context.cert_store_stats()["x509"]


def _build(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    # The compiled-in paths: set_default_verify_paths() would read SSL_CERT_* from the environment.
    paths = ssl.get_default_verify_paths()
    cafile = paths.openssl_cafile if os.path.isfile(paths.openssl_cafile) else None
    capath = paths.openssl_capath if os.path.isdir(paths.openssl_capath) else None
    if cafile or capath:
        context.load_verify_locations(cafile, capath)
    if ca_file:
        _load_ca_file(context, ca_file)
    return context


@functools.cache
def _shared(ca_file: str) -> ssl.SSLContext:
    return _build(ca_file)


def egress_ssl_context(*, shared: bool = True) -> ssl.SSLContext:
    """The context that verifies every outbound connection.

    Loading the bundles takes tens of milliseconds of CPU, more than a whole token refresh, so
    one context per process (per value of the setting) serves every client. `shared=False` gives
    a context of one's own, for a caller that changes it (a client certificate). Sharing is
    safe because httpcore's only change, the ALPN list it sets at each connection, is the same
    for every guarded transport: none offers HTTP/2.
    """
    ca_file = read_setting(CA_FILE_SETTING) or ""
    return _shared(ca_file) if shared else _build(ca_file)
