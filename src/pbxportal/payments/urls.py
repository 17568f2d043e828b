from django.urls import path

from pbxportal.payments import sandbox, views

app_name = "payments"
URL_PREFIX = "payments/"

urlpatterns = [
    path("balance/", views.balance, name="balance"),
    path("invoices/<int:invoice_id>/pay/", views.pay, name="pay"),
    path("staff/offline/", views.staff_offline, name="staff_offline"),
    path("staff/invoices/<int:invoice_id>/refund/", views.staff_refund, name="staff_refund"),
    path("paypal/return/", views.paypal_return, name="paypal_return"),
    path("methods/", views.payment_methods, name="methods"),
    path("methods/add/", views.method_add, name="method_add"),
    path("methods/<int:method_id>/default/", views.method_default, name="method_default"),
    path("methods/<int:method_id>/remove/", views.method_remove, name="method_remove"),
    path("sandbox/setup/<str:reference>/", sandbox.sandbox_setup_page, name="sandbox_setup_page"),
    path("sandbox/<str:reference>/", sandbox.sandbox_page, name="sandbox_page"),
]
