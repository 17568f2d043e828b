from django.apps import AppConfig


class OverdueConfig(AppConfig):
    name = "pbxportal.overdue"
    label = "overdue"

    staff_nav = [("Overdue", "overdue:staff_list")]
