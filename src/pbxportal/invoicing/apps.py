from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "pbxportal.invoicing"
    label = "invoicing"

    def ready(self) -> None:
        from pbxportal.invoicing import mail_hook  # noqa: F401  (registers the R-INV-3 mail)
