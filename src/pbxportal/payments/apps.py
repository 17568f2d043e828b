from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "pbxportal.payments"
    label = "payments"

    partner_nav = [("Account balance", "payments:balance")]
    staff_nav = [("Offline payments", "payments:staff_offline")]
