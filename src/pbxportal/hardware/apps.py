from django.apps import AppConfig


class HardwareConfig(AppConfig):
    """Hardware as a service (R-HW-1..5): agreements, carts and orders, stock."""

    name = "pbxportal.hardware"
    label = "hardware"

    partner_nav = [
        ("HWaaS agreements", "hardware:agreements"),
        ("Orders", "hardware:orders"),
    ]
    staff_nav = [
        ("HWaaS agreements", "hardware:staff_agreements"),
        ("Hardware orders", "hardware:staff_orders"),
        ("Stock", "hardware:staff_stock"),
    ]

    def ready(self) -> None:
        # The HWaaS agreement joins the service checks of pbx.services (R-HW-2).
        from pbxportal.hardware import checks  # noqa: F401
