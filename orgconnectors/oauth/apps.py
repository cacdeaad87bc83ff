from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "orgconnectors.oauth"
    label = "oauth"
    verbose_name = "Member OAuth"
