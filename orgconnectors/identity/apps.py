from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "orgconnectors.identity"
    label = "identity"
    verbose_name = "Identity (single sign-on, SCIM provisioning)"

    def ready(self) -> None:
        from orgconnectors.identity import sso_receivers  # noqa: F401
