from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "orgconnectors.outbox"
    label = "outbox"
    verbose_name = "Task outbox"
