from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pbxportal.accounts"
    label = "accounts"

    partner_nav = [
        ("Customers", "accounts:dashboard"),
        ("Billing contacts", "accounts:billing_contacts"),
        ("API tokens", "accounts:api_tokens"),
        ("Users", "accounts:users"),
        ("Audit", "accounts:audit"),
        ("Security", "mfa_index"),
    ]
    staff_nav = [
        ("Partners", "accounts:staff_partners"),
        ("Audit", "accounts:audit"),
        ("Service tokens", "accounts:api_tokens"),
        ("Security", "mfa_index"),
    ]

    def ready(self) -> None:
        from pbxportal.accounts import signals  # noqa: F401  (registers the receivers)
