from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "orgconnectors.oauth"
    label = "oauth"
    verbose_name = "Member OAuth"

    def ready(self) -> None:
        from orgconnectors.oauth import receivers  # noqa: F401  (connects them)
