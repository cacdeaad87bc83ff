from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "orgconnectors.api"
    label = "api"
