from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "orgconnectors.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Task durations and failures are counted wherever a Celery worker imports the project.
        from orgconnectors.ops import task_metrics  # noqa: F401
        from orgconnectors.ops.metrics import outbox_depth_register
        from orgconnectors.outbox.publish import outbox_pending_count

        # ops sits above the outbox, so it reads the outbox's depth rather than the other way.
        outbox_depth_register(outbox_pending_count)
