from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "pbxportal.common"
    label = "common"
