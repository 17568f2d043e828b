"""Payment pages: the partner's account balance with its open invoices and the pay buttons
(R-INV-4, R-INV-5), and the staff page recording bank transfers. Thin: services act."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbxportal.common.errors import ApplicationError, NotFound
from pbxportal.common.tenancy import get_scoped, scoped
from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, paginate, portal_view, staff_view
from pbxportal.invoicing.models import Invoice
from pbxportal.payments import selectors, services
from pbxportal.payments.forms import OfflinePaymentForm, PayForm
from pbxportal.payments.providers import enabled_providers


@portal_view
def balance(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    partner_id = actor.own_partner_id
    return render(
        request,
        "payments/balance.html",
        {
            "balance": selectors.account_balance(actor=actor, partner_id=partner_id, today=vendor_today()),
            "invoices": selectors.open_invoices(actor=actor, partner_id=partner_id),
            "payments": selectors.payment_list(actor=actor, partner_id=partner_id)[:20],
            "form": PayForm(),
            "providers": enabled_providers(),
            "today": vendor_today(),
        },
    )


@portal_view
@require_POST
def pay(request: HttpRequest, invoice_id: int) -> HttpResponse:
    get_scoped(Invoice, actor_of(request), pk=invoice_id)  # another partner's id is a 404 first (R-TEN-1)
    form = PayForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("Choose a payment method, and an amount if paying part.", fields=form.errors)
    checkout = services.checkout_start(
        actor=actor_of(request),
        invoice_id=invoice_id,
        provider_code=form.cleaned_data["provider"],
        amount=form.cleaned_data["amount"],
    )
    return HttpResponseRedirect(checkout.redirect_url)


@portal_view
def paypal_return(request: HttpRequest) -> HttpResponse:
    """The buyer is back from approving on PayPal: capture the order (R-INV-4). The payment is
    recorded by PayPal's PAYMENT.CAPTURE.COMPLETED webhook, verified like any other."""
    services.paypal_capture(actor=actor_of(request), order_id=request.GET.get("token", ""))
    messages.success(request, _("PayPal payment captured; the invoice shows it as soon as PayPal confirms."))
    return redirect("payments:balance")


@staff_view
def staff_offline(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = OfflinePaymentForm(request.POST or None, initial={"idempotency_key": secrets.token_urlsafe(16)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invoice = scoped(Invoice, actor).filter(number=data["invoice_number"].strip()).first()
            if invoice is None:
                raise NotFound(f"No invoice numbered {data['invoice_number']!r}.")
            payment = services.payment_record_offline(
                actor=actor,
                invoice_id=invoice.pk,
                amount=data["amount"],
                received_on=data["received_on"],
                pi_number=data["pi_number"],
                idempotency_key="form:" + data["idempotency_key"],
            )
        except ApplicationError as exc:
            form.add_error(None, f"{exc.message} ({exc.rule})" if exc.rule else exc.message)
        else:
            messages.success(
                request,
                _("Recorded %(amount)s %(currency)s on %(number)s.")
                % {"amount": payment.amount, "currency": payment.currency, "number": invoice.number},
            )
            return redirect("payments:staff_offline")
    return render(
        request,
        "payments/staff_offline.html",
        {
            "form": form,
            "page": paginate(request, selectors.payment_list(actor=actor)),
            "awaiting": selectors.invoices_awaiting_payment(actor=actor),
        },
    )
