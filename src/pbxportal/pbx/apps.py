from django.apps import AppConfig


class PbxConfig(AppConfig):
    name = "pbxportal.pbx"
    label = "pbx"

    staff_nav = [("Corrections", "pbx:staff_corrections")]
