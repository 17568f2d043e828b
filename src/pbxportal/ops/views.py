"""``/healthz`` and ``/metrics``; neither needs a login (see docs/deployment.md to restrict them)."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from pbxportal.ops import checks, metrics

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, else 503; one entry per check.

    Outside DEBUG the error text is reduced to its exception type: the probe is public and a
    driver's message names hosts and ports. The full text goes to the log.
    """
    results = checks.health(timeout=float(getattr(settings, "HEALTHZ_TIMEOUT", checks.DEFAULT_TIMEOUT)))
    body: dict[str, dict[str, object]] = {}
    for check in results:
        entry: dict[str, object] = {"ok": check.ok, "kind": check.kind, "ms": check.ms}
        if not check.ok:
            log.warning("healthz: %s %s failed: %s", check.name, check.detail, check.error)
            entry["error"] = check.error if settings.DEBUG else check.error.split(":", 1)[0]
        body[check.name] = entry
    healthy = all(check.ok for check in results)
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": body}, status=200 if healthy else 503
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. With METRICS_TOKEN set, a ``Bearer`` token is required; in
    production it must be set, else /metrics is refused."""
    token = getattr(settings, "METRICS_TOKEN", "")
    if not token and settings.PRODUCTION:
        return HttpResponse(
            "metrics: METRICS_TOKEN is not configured\n", status=403, content_type="text/plain"
        )
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("metrics: bearer token required\n", status=401, content_type="text/plain")
    payload, content_type = metrics.render()
    return HttpResponse(payload, content_type=content_type)
