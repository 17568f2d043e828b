from django.urls import path

from pbxportal.licensing import views

app_name = "licensing"
URL_PREFIX = ""

urlpatterns = [
    path("pbxs/<int:pbx_id>/licence/", views.history, name="history"),
    path("pbxs/<int:pbx_id>/licence/activation-code/", views.activation_code, name="activation_code"),
    path("pbxs/<int:pbx_id>/licence/<int:licence_version>/download/", views.download, name="download"),
]
