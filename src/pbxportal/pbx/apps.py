from django.apps import AppConfig


class PbxConfig(AppConfig):
    name = "pbxportal.pbx"
    label = "pbx"

    def ready(self) -> None:
        # Storage's ordering rule joins the service-family registry (R-PBX-1).
        from pbxportal.pbx import families  # noqa: F401
