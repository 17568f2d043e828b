from allauth.account import views as allauth_views
from django.urls import path

from pbxportal.accounts import audit_views, back_office_views, user_views, views

app_name = "accounts"
URL_PREFIX = ""

urlpatterns = [
    path("", views.home, name="home"),
    # allauth's views under the portal's names (the rest of allauth: config/urls.py).
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", allauth_views.logout, name="logout"),
    path("customers/", views.dashboard, name="dashboard"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/edit/", views.customer_edit, name="customer_edit"),
    path("billing-contacts/", views.billing_contacts, name="billing_contacts"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("staff/partners/", views.staff_partners, name="staff_partners"),
    path("staff/partners/new/", back_office_views.partner_new, name="staff_partner_new"),
    path("staff/partners/<int:partner_id>/", back_office_views.partner_detail, name="staff_partner"),
    path("audit/", audit_views.audit, name="audit"),
    path("users/", user_views.users, name="users"),
    path("users/<int:user_id>/role/", user_views.user_role, name="user_role"),
    path("users/<int:user_id>/active/", user_views.user_active, name="user_active"),
    path("users/mfa/", user_views.partner_mfa, name="partner_mfa"),
    path("invitation/<str:token>/", user_views.invitation_accept, name="invitation_accept"),
]
