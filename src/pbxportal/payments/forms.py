from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from pbxportal.payments.providers import enabled_providers


class PayForm(forms.Form):
    provider = forms.ChoiceField(label=_("Provider"), choices=enabled_providers)
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=Decimal("0.01"), decimal_places=2
    )


class OfflinePaymentForm(forms.Form):
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=30)
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), decimal_places=6)
    received_on = forms.DateField(label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}))
    pi_number = forms.CharField(label=_("PI number"), max_length=60, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)


class RefundForm(forms.Form):
    """Staff record a refund of account credit (the same service as ``POST /payments/refunds``)."""

    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), decimal_places=6)
    reference = forms.CharField(label=_("Reference"), max_length=120)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
