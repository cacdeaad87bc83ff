from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "orgconnectors.gateway"
    label = "gateway"
    verbose_name = "Gateway"
