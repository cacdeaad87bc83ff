from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "orgconnectors.health"
    label = "health"
    verbose_name = "Health checks"

    def ready(self):
        from orgconnectors.health import checks  # noqa: F401  (registers them)
