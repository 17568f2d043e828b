from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """What a partner waits for (R-UI-1, issue 16 item 7): an in-portal list and an email per
    decision, with per-user preferences. The deciding services call ``notifications.services.notify``."""

    name = "pbxportal.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
