from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "orgconnectors.connectors"
    label = "connectors"

    def ready(self) -> None:
        # plan_limits registers the plan's connection limits with organizations/plan_change.py;
        # group_access ends the connections of people who leave a connector's groups.
        from orgconnectors.connectors import group_access, plan_limits  # noqa: F401
