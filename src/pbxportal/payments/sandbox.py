"""The sandbox provider's hosted page (R-INV-4): served by the portal like a provider's test mode.

The page shows what is paid; a test card succeeds or is declined, and the page then sends the
signed webhook to the portal's webhook URL over HTTP, as a real provider would. When the portal
cannot reach itself (a single-threaded server), the same signed bytes go through the same
verification in-process (``services.webhook_receive``), so the outcome is identical.
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from pbxportal.common.tenancy import get_scoped
from pbxportal.common.views import actor_of, portal_view
from pbxportal.core.money import round_line
from pbxportal.payments import services
from pbxportal.payments.models import Checkout, CheckoutStatus, MethodSetup
from pbxportal.payments.providers.sandbox import (
    SandboxProvider,
    card_outcome,
    event_body,
    setup_event_body,
    setup_outcome,
)

log = logging.getLogger(__name__)


def _deliver(request: HttpRequest, body: bytes, headers: dict[str, str]) -> None:
    url = request.build_absolute_uri("/api/v1/payments/webhooks/sandbox")
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=10)
        if response.status_code == 200:
            return
        log.warning("sandbox webhook answered %s", response.status_code)
    except httpx.HTTPError as exc:
        log.warning("sandbox webhook not delivered over HTTP (%s); delivering in-process", type(exc).__name__)
    services.webhook_receive(provider_code="sandbox", body=body, headers=headers, now=timezone.now())


@portal_view
def sandbox_page(request: HttpRequest, reference: str) -> HttpResponse:
    """Only the partner's own users open its sandbox checkouts (another partner's is a 404, R-TEN-1)."""
    if not settings.PAYMENT_SANDBOX_ENABLED:
        raise Http404("The sandbox provider is off.")
    checkout = get_scoped(
        Checkout.objects.select_related("invoice"), actor_of(request), reference=reference, provider="sandbox"
    )
    error = ""
    if request.method == "POST" and checkout.status == CheckoutStatus.OPEN:
        outcome = card_outcome(request.POST.get("card_number", ""))
        if outcome is None:
            error = "Unknown test card: use 4242 4242 4242 4242 (succeeds) or 4000 0000 0000 0002 (declined)."
        else:
            provider = SandboxProvider(webhook_secret=settings.PAYMENT_SANDBOX_WEBHOOK_SECRET)
            body = event_body(
                reference=checkout.reference,
                outcome=outcome,
                amount=round_line(checkout.amount, checkout.currency),
                currency=checkout.currency,
            )
            _deliver(request, body, provider.signed_headers(body, timezone.now()))
            checkout.refresh_from_db()
            if checkout.status == CheckoutStatus.PAID:
                return redirect("invoicing:detail", invoice_id=checkout.invoice_id)
    return render(
        request,
        "payments/sandbox_page.html",
        {"checkout": checkout, "error": error},
        status=400 if error else 200,
    )


@portal_view
def sandbox_setup_page(request: HttpRequest, reference: str) -> HttpResponse:
    """The sandbox's hosted "save card" page (build item 6): the card is saved by the provider and
    a signed ``setup.succeeded`` webhook tells the portal its ids; a refused card saves nothing."""
    if not settings.PAYMENT_SANDBOX_ENABLED:
        raise Http404("The sandbox provider is off.")
    setup = get_scoped(MethodSetup, actor_of(request), reference=reference, provider="sandbox")
    error = ""
    if request.method == "POST" and setup.status == CheckoutStatus.OPEN:
        number = request.POST.get("card_number", "")
        outcome = setup_outcome(number)
        if outcome is None:
            error = _(
                "Unknown test card: use 4242 4242 4242 4242 (charges succeed), 4000 0000 0000 0341 "
                "(saved, charges are declined) or 4000 0000 0000 0002 (refused)."
            )
        else:
            provider = SandboxProvider(webhook_secret=settings.PAYMENT_SANDBOX_WEBHOOK_SECRET)
            body = setup_event_body(
                reference=setup.reference,
                outcome=outcome,
                customer=setup.customer_ref,
                number=number,
                year=timezone.now().year,
            )
            _deliver(request, body, provider.signed_headers(body, timezone.now()))
            setup.refresh_from_db()
            if setup.status == CheckoutStatus.PAID:
                return redirect("payments:methods")
    return render(
        request,
        "payments/sandbox_setup_page.html",
        {"setup": setup, "error": error},
        status=400 if error else 200,
    )
