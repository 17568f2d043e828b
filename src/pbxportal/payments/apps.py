from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "pbxportal.payments"
    label = "payments"

    staff_nav = [("Offline payments", "payments:staff_offline")]
