from django.urls import path

from pbxportal.notifications import views

app_name = "notifications"
URL_PREFIX = "notifications/"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("<int:notification_id>/read/", views.mark_read, name="read"),
    path("<int:notification_id>/open/", views.open_link, name="open"),
]
