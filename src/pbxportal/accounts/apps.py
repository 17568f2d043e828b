from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pbxportal.accounts"
    label = "accounts"

    staff_nav = [("Partners", "accounts:staff_partners")]
