from django.urls import path

from pbxportal.pbx import views

app_name = "pbx"
URL_PREFIX = ""

urlpatterns = [
    path("pbxs/", views.pbx_list, name="list"),
    path("pbxs/new/", views.pbx_create, name="create"),
    path("pbxs/<int:pbx_id>/", views.pbx_detail, name="detail"),
    path("pbxs/<int:pbx_id>/licences/", views.licence_change, name="licences"),
    path("pbxs/<int:pbx_id>/services/", views.service_order, name="services"),
    path("pbxs/<int:pbx_id>/plan-switch/", views.plan_switch, name="plan_switch"),
    path("pbxs/<int:pbx_id>/auto-renew/", views.pbx_auto_renew, name="auto_renew"),
    path("pbxs/<int:pbx_id>/pbx-key/", views.pbx_key_regenerate, name="pbx_key"),
    path("pbxs/<int:pbx_id>/ssh/open/", views.ssh_open, name="ssh_open"),
    path("pbxs/<int:pbx_id>/ssh/close/", views.ssh_close, name="ssh_close"),
    path("pbxs/<int:pbx_id>/corrections/", views.correction_file, name="correction_file"),
    path("subscriptions/<int:subscription_id>/cancel/", views.subscription_cancel, name="cancel"),
    path(
        "subscriptions/<int:subscription_id>/auto-renew/",
        views.subscription_auto_renew,
        name="subscription_auto_renew",
    ),
    path("staff/corrections/", views.staff_corrections, name="staff_corrections"),
    path(
        "staff/corrections/<int:correction_id>/apply/",
        views.staff_correction_apply,
        name="staff_correction_apply",
    ),
    path(
        "staff/corrections/<int:correction_id>/reject/",
        views.staff_correction_reject,
        name="staff_correction_reject",
    ),
]
