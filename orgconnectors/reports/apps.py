from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "orgconnectors.reports"
    label = "reports"
