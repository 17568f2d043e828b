from django.apps import AppConfig


class HardwareConfig(AppConfig):
    """Hardware as a service (R-HW-1..5): agreements, carts and orders, stock."""

    name = "pbxportal.hardware"
    label = "hardware"

    def ready(self) -> None:
        # HWaaS's ordering rules join the service-family registry (R-HW-1).
        from pbxportal.hardware import families  # noqa: F401
