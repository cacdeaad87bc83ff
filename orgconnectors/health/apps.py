from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "orgconnectors.health"
    label = "health"
    verbose_name = "Health checks"
