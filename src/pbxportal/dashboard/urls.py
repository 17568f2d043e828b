from django.urls import path

from pbxportal.dashboard import views

app_name = "dashboard"
URL_PREFIX = "dashboard/"

urlpatterns = [
    path("", views.partner_dashboard, name="partner"),
    path("staff/", views.staff_dashboard, name="staff"),
]
