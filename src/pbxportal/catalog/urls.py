from django.urls import path

from pbxportal.catalog import views

app_name = "catalog"
URL_PREFIX = ""

urlpatterns = [
    path("price-book/", views.price_book, name="price_book"),
    path("staff/price-books/", views.staff_price_books, name="staff_price_books"),
    path("staff/price-books/<str:book_code>/", views.staff_price_book, name="staff_price_book"),
    path("staff/prices/<int:price_id>/", views.staff_price_edit, name="staff_price_edit"),
    path("documents/", views.documents, name="documents"),
    path("documents/<slug:template_code>/download/", views.document_download, name="document_download"),
    path("staff/documents/<slug:template_code>/", views.staff_document, name="staff_document"),
    path(
        "staff/documents/<slug:template_code>/versions/<int:template_version>/",
        views.staff_document_version,
        name="staff_document_version",
    ),
]
