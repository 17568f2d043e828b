from __future__ import annotations

from decimal import Decimal

from django import forms

from pbxportal.payments.providers import enabled_providers


class PayForm(forms.Form):
    provider = forms.ChoiceField(choices=enabled_providers)
    amount = forms.DecimalField(required=False, min_value=Decimal("0.01"), decimal_places=2)


class OfflinePaymentForm(forms.Form):
    invoice_number = forms.CharField(max_length=30)
    amount = forms.DecimalField(min_value=Decimal("0.01"), decimal_places=6)
    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    pi_number = forms.CharField(label="PI number", max_length=60, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
