from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "orgconnectors.identity"
    label = "identity"
    verbose_name = "Identity (SCIM provisioning)"
