from django.urls import path

from pbxportal.voice import views

app_name = "voice"

urlpatterns = [
    path("numbers/", views.numbers, name="numbers"),
    path("numbers/new/", views.number_order_new, name="number_order_new"),
    path("number-orders/<int:number_order_id>/", views.number_order, name="number_order"),
    path(
        "number-orders/<int:number_order_id>/documents/",
        views.number_document_upload,
        name="number_document_upload",
    ),
    path(
        "number-orders/<int:number_order_id>/submit/", views.number_order_submit, name="number_order_submit"
    ),
    path("number-orders/<int:number_order_id>/draft/", views.number_order_draft, name="number_order_draft"),
    path(
        "number-orders/<int:number_order_id>/delete/",
        views.number_order_draft_delete,
        name="number_order_draft_delete",
    ),
    path("number-documents/<int:number_document_id>/", views.number_document, name="number_document"),
    path("pbxs/<int:pbx_id>/usage/", views.usage, name="usage"),
    path("pbxs/<int:pbx_id>/usage/calls/", views.usage_calls, name="usage_calls"),
    path("pbxs/<int:pbx_id>/cdrs/", views.cdr_upload, name="cdr_upload"),
    path("imports/<int:job_id>/", views.import_job, name="import_job"),
    path("imports/<int:job_id>/resume/", views.import_job_resume, name="import_job_resume"),
    path("pbxs/<int:pbx_id>/bundle-switch/", views.bundle_switch, name="bundle_switch"),
    path("staff/number-orders/", views.staff_number_orders, name="staff_number_orders"),
    path(
        "staff/number-orders/<int:number_order_id>/decide/",
        views.staff_number_order_decide,
        name="staff_number_order_decide",
    ),
    path("staff/bundle-switches/", views.staff_bundle_switches, name="staff_bundle_switches"),
    path(
        "staff/bundle-switches/<int:bundle_ticket_id>/decide/",
        views.staff_bundle_switch_decide,
        name="staff_bundle_switch_decide",
    ),
]
