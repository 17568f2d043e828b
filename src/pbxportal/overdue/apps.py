from django.apps import AppConfig


class OverdueConfig(AppConfig):
    name = "pbxportal.overdue"
    label = "overdue"
