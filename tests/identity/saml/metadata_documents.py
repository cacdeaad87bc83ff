"""SAML metadata documents for the tests, written out so that each one's flaw is plain."""

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def key_descriptor(certificate: str, use: str | None = "signing") -> str:
    use_attribute = f' use="{use}"' if use else ""
    return (
        f"<md:KeyDescriptor{use_attribute}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>"
        f"{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    )


def entity(
    entity_id: str,
    *,
    keys: list[str] = (),
    sso: list[tuple[str, str]] = ((REDIRECT, "https://idp.example.com/sso"),),
    slo: list[tuple[str, str]] = (),
    descriptor: str = "IDPSSODescriptor",
) -> str:
    services = "".join(
        f'<md:SingleLogoutService Binding="{b}" Location="{u}"/>' for b, u in slo
    ) + "".join(f'<md:SingleSignOnService Binding="{b}" Location="{u}"/>' for b, u in sso)
    return (
        f'<md:EntityDescriptor entityID="{entity_id}">'
        f'<md:{descriptor} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{''.join(keys)}{services}</md:{descriptor}></md:EntityDescriptor>"
    )


def document(*entities: str) -> str:
    namespaces = f'xmlns:md="{MD}" xmlns:ds="{DS}"'
    if len(entities) == 1:
        return entities[0].replace(
            "<md:EntityDescriptor ", f"<md:EntityDescriptor {namespaces} ", 1
        )
    return f"<md:EntitiesDescriptor {namespaces}>{''.join(entities)}</md:EntitiesDescriptor>"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol9;"/>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE md [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&secret;"/>
"""


def entra_shaped(entity_id: str, signing: str, metadata_signer: str) -> str:
    """Shaped like Microsoft Entra ID's federation metadata: a signature over the document (with
    its own certificate), WS-Federation RoleDescriptors and an SPSSODescriptor in the same entity
    as the IDPSSODescriptor, which has both bindings."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_3f1c" entityID="{entity_id}" xmlns="{MD}">
  <Signature xmlns="{DS}"><SignedInfo/><SignatureValue>AAAA</SignatureValue>
    <KeyInfo><X509Data><X509Certificate>{metadata_signer}</X509Certificate></X509Data></KeyInfo>
  </Signature>
  <RoleDescriptor xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706"
      xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706">
    <KeyDescriptor use="signing"><KeyInfo xmlns="{DS}"><X509Data>
      <X509Certificate>{metadata_signer}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  </RoleDescriptor>
  <SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="{DS}"><X509Data>
      <X509Certificate>{metadata_signer}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  </SPSSODescriptor>
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing">
      <KeyInfo xmlns="{DS}">
        <X509Data>
          <X509Certificate>
            {signing}
          </X509Certificate>
        </X509Data>
      </KeyInfo>
    </KeyDescriptor>
    <SingleLogoutService Binding="{REDIRECT}" Location="https://login.example.com/t/saml2"/>
    <SingleSignOnService Binding="{POST}" Location="https://login.example.com/t/saml2/post"/>
    <SingleSignOnService Binding="{REDIRECT}" Location="https://login.example.com/t/saml2"/>
  </IDPSSODescriptor>
</EntityDescriptor>
"""
