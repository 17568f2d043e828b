from django.urls import path

from pbxportal.payments import sandbox, views

app_name = "payments"
URL_PREFIX = "payments/"

urlpatterns = [
    path("balance/", views.balance, name="balance"),
    path("invoices/<int:invoice_id>/pay/", views.pay, name="pay"),
    path("staff/offline/", views.staff_offline, name="staff_offline"),
    path("sandbox/<str:reference>/", sandbox.sandbox_page, name="sandbox_page"),
    path("paypal/return/", views.paypal_return, name="paypal_return"),
]
