"""orgconnectors as the OAuth 2.1 authorization server of the gateway.

allauth's OpenID Connect provider (`allauth.idp.oidc`) does the protocol: authorization code with
PKCE, dynamic client registration, Client ID Metadata Documents, resource indicators, refresh and
revocation. This package adapts it (adapter.py), sends its metadata-document fetch through the
egress module (cimd_fetch.py), publishes the RFC 9728 and RFC 8414 documents (views.py), and checks
the gateway's access tokens on each call (access_tokens.py). docs/gateway.md tells the whole story.
"""
