from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "pbxportal.common"
    label = "common"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from pbxportal.common.failures import remember_exception

        got_request_exception.connect(remember_exception, dispatch_uid="pbxportal.remember_exception")
