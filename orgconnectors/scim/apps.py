from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "orgconnectors.scim"
    label = "scim"
    verbose_name = "SCIM 2.0 endpoint"
