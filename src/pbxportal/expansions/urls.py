from django.urls import path

from pbxportal.expansions import views

app_name = "expansions"
URL_PREFIX = ""

urlpatterns = [
    path("pbxs/<int:pbx_id>/expansions/", views.pbx_expansions, name="pbx_expansions"),
    path("pbxs/<int:pbx_id>/expansions/checkout/", views.checkout, name="checkout"),
    path("expansion-orders/", views.orders, name="orders"),
    path("expansion-orders/<int:expansion_order_id>/", views.order_detail, name="order_detail"),
    path("expansion-orders/<int:expansion_order_id>/cancel/", views.order_cancel, name="order_cancel"),
]
