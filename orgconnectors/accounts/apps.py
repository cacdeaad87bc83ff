from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "orgconnectors.accounts"
    label = "accounts"
