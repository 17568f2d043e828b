from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "pbxportal.payments"
    label = "payments"

    def ready(self) -> None:
        from pbxportal.payments import auto_charge_hook  # noqa: F401  (automatic charging, build item 6)
