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
from pbxportal.payments import methods, selectors, services
from pbxportal.payments.forms import OfflinePaymentForm, PayForm, RefundForm
from pbxportal.payments.providers import enabled_providers, method_providers


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


@portal_view
def payment_methods(request: HttpRequest) -> HttpResponse:
    """Billing → Payment methods (build item 6): the saved cards, the default one charged
    automatically, and the recent automatic charges with their outcome."""
    actor = actor_of(request)
    return render(
        request,
        "payments/methods.html",
        {
            "methods": selectors.saved_methods(actor=actor, partner_id=actor.own_partner_id),
            "attempts": selectors.charge_attempts(actor=actor, partner_id=actor.own_partner_id)[:20],
            "providers": method_providers(),
            "schedule": methods.retry_schedule(),
        },
    )


@portal_view
@require_POST
def method_add(request: HttpRequest) -> HttpResponse:
    setup = methods.method_setup_start(
        actor=actor_of(request), provider_code=request.POST.get("provider", "")
    )
    return HttpResponseRedirect(setup.redirect_url)


@portal_view
@require_POST
def method_default(request: HttpRequest, method_id: int) -> HttpResponse:
    method = methods.method_set_default(actor=actor_of(request), method_id=method_id)
    messages.success(request, _("%(method)s is now charged automatically.") % {"method": method.label})
    return redirect("payments:methods")


@portal_view
@require_POST
def method_remove(request: HttpRequest, method_id: int) -> HttpResponse:
    method = methods.method_remove(actor=actor_of(request), method_id=method_id)
    messages.success(request, _("%(method)s removed.") % {"method": method.label})
    return redirect("payments:methods")


@staff_view
@require_POST
def staff_refund(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Record a refund of the invoice's partner's account credit from the staff invoice page."""
    actor = actor_of(request)
    invoice = get_scoped(Invoice, actor, pk=invoice_id)
    form = RefundForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(_("Refund: an amount and a reference."), fields=form.errors)
    try:
        entry = services.refund_record(
            actor=actor,
            partner_id=invoice.partner_id,
            amount=form.cleaned_data["amount"],
            reference=form.cleaned_data["reference"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        messages.error(request, f"{exc.message} ({exc.rule})" if exc.rule else exc.message)
    else:
        messages.success(
            request,
            _("Refund of %(amount)s %(currency)s recorded (%(reference)s).")
            % {"amount": -entry.amount, "currency": entry.currency, "reference": entry.reference},
        )
    return redirect("invoicing:detail", invoice_id=invoice.pk)
