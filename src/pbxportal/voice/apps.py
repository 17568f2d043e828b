from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "pbxportal.voice"
    label = "voice"

    def ready(self) -> None:
        # The voice trunk's ordering rules join the service-family registry (R-CO-2, R-VT-5).
        from pbxportal.voice import checks  # noqa: F401
