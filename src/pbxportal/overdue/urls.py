from django.urls import path

from pbxportal.overdue import views

app_name = "overdue"
URL_PREFIX = "overdue/"

urlpatterns = [path("staff/", views.staff_list, name="staff_list")]
