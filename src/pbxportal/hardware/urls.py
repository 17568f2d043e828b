from django.urls import path

from pbxportal.hardware import views

app_name = "hardware"
URL_PREFIX = ""

urlpatterns = [
    path("hwaas/agreements/", views.agreements, name="agreements"),
    path("hwaas/agreements/<int:agreement_id>/file/", views.agreement_file, name="agreement_file"),
    path("hwaas/orders/", views.orders, name="orders"),
    path("hwaas/orders/new/", views.order_create, name="order_create"),
    path("hwaas/orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("hwaas/orders/<int:order_id>/cart/", views.order_cart, name="order_cart"),
    path("hwaas/orders/<int:order_id>/checkout/", views.order_checkout, name="order_checkout"),
    path("hwaas/orders/<int:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("staff/hwaas/agreements/", views.staff_agreements, name="staff_agreements"),
    path(
        "staff/hwaas/agreements/<int:agreement_id>/decide/",
        views.staff_agreement_decide,
        name="staff_agreement_decide",
    ),
    path("staff/hwaas/orders/", views.staff_orders, name="staff_orders"),
    path("staff/hwaas/orders/<int:order_id>/", views.staff_order_detail, name="staff_order_detail"),
    path(
        "staff/hwaas/orders/<int:order_id>/transition/",
        views.staff_order_transition,
        name="staff_order_transition",
    ),
    path("staff/hwaas/stock/", views.staff_stock, name="staff_stock"),
]
