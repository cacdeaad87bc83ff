from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "orgconnectors.api"
    label = "api"

    def ready(self) -> None:
        from orgconnectors.api import receivers  # noqa: F401  (connects them)
