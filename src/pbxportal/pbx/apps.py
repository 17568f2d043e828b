from django.apps import AppConfig


class PbxConfig(AppConfig):
    name = "pbxportal.pbx"
    label = "pbx"

    partner_nav = [("PBXs", "pbx:list")]
    staff_nav = [("Corrections", "pbx:staff_corrections")]
