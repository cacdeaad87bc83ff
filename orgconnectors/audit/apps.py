from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "orgconnectors.audit"
    label = "audit"
