from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "orgconnectors.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Task durations and failures are counted wherever a Celery worker imports the project.
        from orgconnectors.ops import task_metrics  # noqa: F401  (connects the task signals)
