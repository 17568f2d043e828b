from django.urls import path

from pbxportal.catalog import views

app_name = "catalog"
URL_PREFIX = ""

urlpatterns = [
    path("price-book/", views.price_book, name="price_book"),
    path("staff/price-books/", views.staff_price_books, name="staff_price_books"),
    path("staff/price-books/<str:book_code>/", views.staff_price_book, name="staff_price_book"),
    path("staff/prices/<int:price_id>/", views.staff_price_edit, name="staff_price_edit"),
]
