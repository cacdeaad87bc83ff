from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo of `make run`: its MCP servers, its authorization server, its certificate
    authority, and the commands that seed and run it (seed_demo, run_dev). No models."""

    name = "orgconnectors.demo"
    label = "demo"
    verbose_name = "Demo"
