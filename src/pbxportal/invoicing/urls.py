from django.urls import path

from pbxportal.invoicing import views

app_name = "invoicing"
URL_PREFIX = ""

urlpatterns = [
    path("invoices/", views.invoice_list, name="list"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="detail"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="pdf"),
    path("invoices/<int:invoice_id>/facturx/", views.invoice_facturx, name="facturx"),
    path("invoices/zip/", views.invoices_zip, name="zip"),
    path("invoices/open/", views.invoice_open, name="open"),
    path("staff/bill-runs/", views.billruns, name="billruns"),
    path("staff/tax-report/", views.tax_report, name="tax_report"),
]
