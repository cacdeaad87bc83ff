"""Health in words for templates: `{{ connector|health_line }}`, `{{ caps|capability_names }}`."""

from django import template

from orgconnectors.connectors.models import Connector
from orgconnectors.health import selectors

register = template.Library()

# How the protocol's capability flags read on the page.
_FLAGS = {"listChanged": "announces changes", "subscribe": "subscriptions"}


@register.filter
def health_line(connector: Connector) -> str:
    return selectors.health_line(connector)


@register.filter
def capability_names(capabilities: dict | None) -> list[str]:
    """{"tools": {"listChanged": true}, "logging": {}}
    -> ["logging", "tools (announces changes)"]."""
    names = []
    for name, value in sorted((capabilities or {}).items()):
        items = value.items() if isinstance(value, dict) else []
        flags = [_FLAGS.get(k, k) for k, v in items if v is True]
        names.append(f"{name} ({', '.join(flags)})" if flags else name)
    return names
