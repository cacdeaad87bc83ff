from django.apps import AppConfig


class GatewayAuthorizationConfig(AppConfig):
    name = "orgconnectors.gateway.authorization"
    label = "gateway_authorization"
    verbose_name = "Gateway authorization"

    def ready(self) -> None:
        # allauth's Client ID Metadata Document fetch goes through the egress module; the
        # messages_api app hands out gateway tokens minted here; membership and token changes
        # reach the token check's memory.
        from orgconnectors.gateway.authorization import cimd_fetch, handout, receivers

        cimd_fetch.install()
        handout.install()
        receivers.connect()
