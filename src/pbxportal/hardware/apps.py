from django.apps import AppConfig


class HardwareConfig(AppConfig):
    """Hardware as a service (R-HW-1..5): agreements, carts and orders, stock."""

    name = "pbxportal.hardware"
    label = "hardware"

    staff_nav = [
        ("HWaaS agreements", "hardware:staff_agreements"),
        ("Hardware orders", "hardware:staff_orders"),
        ("Stock", "hardware:staff_stock"),
    ]
