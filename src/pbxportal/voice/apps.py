from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "pbxportal.voice"
    label = "voice"

    staff_nav = [
        ("Number documents", "voice:staff_number_orders"),
        ("Bundle switches", "voice:staff_bundle_switches"),
    ]

    def ready(self) -> None:
        # The CTA2 bundle's DID requirement joins the service checks of pbx.services (R-VT-5).
        from pbxportal.voice import checks  # noqa: F401
