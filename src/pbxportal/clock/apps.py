from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "pbxportal.clock"
    label = "clock"
