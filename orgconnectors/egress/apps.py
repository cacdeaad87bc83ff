from django.apps import AppConfig


class EgressConfig(AppConfig):
    """The one door to the outside. An app only for its system check (checks.py): the deadline
    of every outbound call must end before the leases the calls run under."""

    name = "orgconnectors.egress"
    label = "egress"
    verbose_name = "Egress"

    def ready(self) -> None:
        from orgconnectors.egress import checks  # noqa: F401  (registers it)
