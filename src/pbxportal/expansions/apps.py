from django.apps import AppConfig


class ExpansionsConfig(AppConfig):
    name = "pbxportal.expansions"
    label = "expansions"

    def ready(self) -> None:
        # The requirement checks register with the engine when the services module is imported.
        from pbxportal.expansions import services
        from pbxportal.payments.hooks import on_invoice_paid

        on_invoice_paid(services.checkout_paid_invoice)
