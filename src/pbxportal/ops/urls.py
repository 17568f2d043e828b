"""Probes at the root: ``/healthz`` for load balancers and orchestrators, ``/metrics`` for Prometheus."""

from django.urls import path

from pbxportal.ops import views

URL_PREFIX = ""

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics_view, name="metrics"),
]
