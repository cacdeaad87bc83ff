from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "orgconnectors.organizations"
    label = "organizations"

    def ready(self):
        from orgconnectors.organizations import signals  # noqa: F401
