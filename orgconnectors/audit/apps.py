from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "orgconnectors.audit"
    label = "audit"

    def ready(self):
        from orgconnectors.audit import checks  # noqa: F401 - registers the system checks
