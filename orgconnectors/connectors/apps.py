from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "orgconnectors.connectors"
    label = "connectors"
