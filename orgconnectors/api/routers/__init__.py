"""One router per resource; orgconnectors.api.urls mounts them all under /orgs."""
