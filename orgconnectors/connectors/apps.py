from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "orgconnectors.connectors"
    label = "connectors"

    def ready(self) -> None:
        # Registers the plan's connection limits with organizations/plan_change.py.
        from orgconnectors.connectors import plan_limits  # noqa: F401
