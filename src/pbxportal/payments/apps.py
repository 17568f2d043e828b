from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "pbxportal.payments"
    label = "payments"
