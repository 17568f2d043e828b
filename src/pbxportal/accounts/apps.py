from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pbxportal.accounts"
    label = "accounts"

    def ready(self) -> None:
        from pbxportal.accounts import signals  # noqa: F401  (registers the receivers)
