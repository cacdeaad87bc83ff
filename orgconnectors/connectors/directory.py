"""Well-known remote MCP servers an owner can pick instead of typing a URL.

Each URL is the one its vendor documents; `source` says where it was taken from, so an operator can
check it again when a vendor moves its server.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DirectoryEntry:
    slug: str
    name: str
    url: str
    transport: str
    auth: str
    description: str
    source: str


DIRECTORY: tuple[DirectoryEntry, ...] = (
    DirectoryEntry(
        "notion",
        "Notion",
        "https://mcp.notion.com/mcp",
        "streamable_http",
        "oauth",
        "Search, read and edit pages and databases.",
        "https://developers.notion.com/docs/mcp",
    ),
    DirectoryEntry(
        "linear",
        "Linear",
        "https://mcp.linear.app/mcp",
        "streamable_http",
        "oauth",
        "Find, create and update issues, projects and comments.",
        "https://linear.app/docs/mcp",
    ),
    DirectoryEntry(
        "atlassian",
        "Atlassian (Jira, Confluence)",
        "https://mcp.atlassian.com/v1/sse",
        "sse",
        "oauth",
        "Jira tickets and Confluence pages.",
        "https://support.atlassian.com/rovo/docs/getting-started-with-the-atlassian-remote-mcp-server/",
    ),
    DirectoryEntry(
        "asana",
        "Asana",
        "https://mcp.asana.com/sse",
        "sse",
        "oauth",
        "Tasks, projects and goals.",
        "https://developers.asana.com/docs/using-asanas-mcp-server",
    ),
    DirectoryEntry(
        "cloudflare",
        "Cloudflare (Workers bindings)",
        "https://bindings.mcp.cloudflare.com/mcp",
        "streamable_http",
        "oauth",
        "Workers, KV, R2 and D1 of your account.",
        "https://developers.cloudflare.com/agents/model-context-protocol/mcp-servers-for-cloudflare/",
    ),
    DirectoryEntry(
        "plaid",
        "Plaid",
        "https://api.dashboard.plaid.com/mcp/sse",
        "sse",
        "oauth",
        "Read-only insight into your Plaid integration and its financial data.",
        "https://plaid.com/docs/resources/mcp/",
    ),
    DirectoryEntry(
        "sentry",
        "Sentry",
        "https://mcp.sentry.dev/mcp",
        "streamable_http",
        "oauth",
        "Errors, stack traces and issues.",
        "https://docs.sentry.io/product/sentry-mcp/",
    ),
    DirectoryEntry(
        "intercom",
        "Intercom",
        "https://mcp.intercom.com/mcp",
        "streamable_http",
        "oauth",
        "Support conversations and contacts.",
        "https://developers.intercom.com/docs/guides/mcp",
    ),
    DirectoryEntry(
        "stripe",
        "Stripe",
        "https://mcp.stripe.com",
        "streamable_http",
        "oauth",
        "Customers, payments, invoices and the Stripe docs.",
        "https://docs.stripe.com/mcp",
    ),
    DirectoryEntry(
        "square",
        "Square",
        "https://mcp.squareup.com/sse",
        "sse",
        "oauth",
        "Payments, orders, catalog and customers.",
        "https://developer.squareup.com/docs/mcp",
    ),
    DirectoryEntry(
        "paypal",
        "PayPal",
        "https://mcp.paypal.com/mcp",
        "streamable_http",
        "oauth",
        "Invoices, orders, disputes and transactions.",
        "https://developer.paypal.com/tools/mcp-server/",
    ),
    DirectoryEntry(
        "hubspot",
        "HubSpot",
        "https://mcp.hubspot.com/",
        "streamable_http",
        "oauth",
        "CRM contacts, companies and deals.",
        "https://developers.hubspot.com/mcp",
    ),
)

_BY_SLUG = {entry.slug: entry for entry in DIRECTORY}


def directory_entry(slug: str) -> DirectoryEntry | None:
    return _BY_SLUG.get(slug)
