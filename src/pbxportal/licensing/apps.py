from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "pbxportal.licensing"
    label = "licensing"

    def ready(self) -> None:
        from pbxportal.licensing import services
        from pbxportal.payments.hooks import on_invoice_paid
        from pbxportal.pbx.services import on_pbx_changed

        on_pbx_changed(services.on_pbx_changed)
        on_invoice_paid(services.on_invoice_paid)
