from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "orgconnectors.accounts"
    label = "accounts"
    # allauth's app is "Accounts" in the admin too (email addresses); this one holds the users.
    verbose_name = "Users"
