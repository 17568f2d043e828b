"""Headers (issue 13 item 10): a Content-Security-Policy on every page, HSTS in production, and
/metrics refused in production without METRICS_TOKEN."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client, override_settings

from tests.production_env import production_secrets


def test_pages_send_a_content_security_policy(db: Any) -> None:
    response = Client().get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_production_sends_hsts_on_https(db: Any) -> None:
    with override_settings(SECURE_HSTS_SECONDS=31536000):
        response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_settings_default_to_hsts_and_csp() -> None:
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "METRICS_TOKEN"}},
        "PBXPORTAL_ENV": "production",
        "SECRET_KEY": "k" * 50,
        "DATABASE_URL": "postgres://u@127.0.0.1/x",
        "DJANGO_SETTINGS_MODULE": "pbxportal.config.settings",
        **production_secrets(),
    }
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE)"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-1500:]
    assert out.stdout.split() == ["31536000", "True"]


def test_metrics_is_refused_in_production_without_a_token(db: Any) -> None:
    with override_settings(PRODUCTION=True, METRICS_TOKEN=""):
        refused = Client().get("/metrics")
    with override_settings(PRODUCTION=True, METRICS_TOKEN="t" * 32):
        anonymous = Client().get("/metrics")
        allowed = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32)
    assert refused.status_code == 403
    assert anonymous.status_code == 401
    assert allowed.status_code == 200


def test_the_api_docs_run_under_the_same_policy_from_the_portals_own_files(db: Any) -> None:
    # when the Swagger UI page is read
    response = Client().get("/api/docs")
    page = response.content.decode()
    # then it has the portal's policy (no exception for it) and loads nothing from another host
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert any(src.endswith("swagger-ui-bundle.js") for src in sources)
    assert all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    assert "<script>" not in page  # no inline script: the settings are JSON read by a static script
