from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "orgconnectors.health"
    label = "health"
    verbose_name = "Health checks"

    def ready(self):
        # The deadline check compares with the health check's lease, among others.
        from orgconnectors.egress import checks  # noqa: F401
        from orgconnectors.health import checks as health_checks  # noqa: F401
