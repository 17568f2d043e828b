from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The landing pages: a partner's dashboard and the staff dashboard (R-UI-1). Reads only."""

    name = "pbxportal.dashboard"
    label = "dashboard"
