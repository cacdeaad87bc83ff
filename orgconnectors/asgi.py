"""The ASGI application: the gateway's MCP endpoints (/mcp/{org}/{connector}) in front of
Django, which serves everything else. Served by granian (`make serve`) and uvicorn (`make run`).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")
django_application = get_asgi_application()

# After Django is set up: the gateway reads models and settings.
from orgconnectors.gateway.server import with_gateway  # noqa: E402

application = with_gateway(django_application)
