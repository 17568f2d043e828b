"""Forms of the PBX pages: they only validate input; the services decide (and refuse with a rule id)."""

from __future__ import annotations

from typing import Any

from django import forms

from pbxportal.catalog.models import Product
from pbxportal.pbx.services import SSH_DEFAULT_MINUTES, SSH_MAX_MINUTES

TERMS = [("yearly", "Yearly"), ("monthly", "Monthly"), ("five_year", "Five years"), ("lifetime", "Lifetime")]
LICENCE_PREFIX = "licence_"


def _choices(products: list[Product]) -> list[tuple[str, str]]:
    return [(p.code, f"{p.name} ({p.code})") for p in products]


class PbxCreateForm(forms.Form):
    """A new PBX (R-PBX-1): the licence quantities get one field per licence profile of the catalog."""

    customer_id = forms.TypedChoiceField(label="Customer", coerce=int)
    model_code = forms.ChoiceField(label="Model")
    name = forms.CharField(
        max_length=63, help_text="A DNS label; a cloud PBX answers at https://NAME.<domain>"
    )
    region = forms.ChoiceField(required=False, help_text="Cloud PBXs only, required there")
    term = forms.ChoiceField(choices=TERMS, help_text="Every licence and service of the PBX shares it")
    storage_blocks = forms.IntegerField(min_value=0, initial=0, required=False, help_text="Cloud PBXs only")

    def __init__(
        self,
        *args: Any,
        customers: list[tuple[int, str]],
        models: list[Product],
        profiles: list[Product],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer_id"].choices = customers  # type: ignore[attr-defined]
        self.fields["model_code"].choices = _choices(models)  # type: ignore[attr-defined]
        regions = sorted({r for m in models for r in (m.attributes.get("regions") or [])})
        self.fields["region"].choices = [("", "— (VM/HW)"), *((r, r) for r in regions)]  # type: ignore[attr-defined]
        for profile in profiles:
            self.fields[LICENCE_PREFIX + profile.code] = forms.IntegerField(
                label=f"{profile.name} licences", min_value=0, initial=0, required=False
            )

    def licences(self) -> dict[str, int]:
        return {
            name.removeprefix(LICENCE_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(LICENCE_PREFIX) and value
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "customer_id": data["customer_id"],
            "model_code": data["model_code"],
            "name": data["name"],
            "region": data["region"] or "",
            "term": data["term"],
            "storage_blocks": data["storage_blocks"] or 0,
            "licences": self.licences(),
        }


class LicenceChangeForm(forms.Form):
    """R-PBX-7/8: the new quantity of one licence profile."""

    profile = forms.ChoiceField()
    quantity = forms.IntegerField(min_value=0, help_text="The new quantity, not the difference")

    def __init__(self, *args: Any, profiles: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = _choices(profiles)  # type: ignore[attr-defined]


class ServiceOrderForm(forms.Form):
    """A co-terminated service (R-CO-1): the term, when given, must be the PBX's."""

    product_code = forms.ChoiceField(label="Service")
    quantity = forms.IntegerField(min_value=1, initial=1)
    term = forms.ChoiceField(
        choices=[("", "The PBX's term"), *TERMS], required=False, help_text="Services share the PBX's term"
    )

    def __init__(self, *args: Any, products: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_code"].choices = _choices(products)  # type: ignore[attr-defined]


class PlanSwitchForm(forms.Form):
    """R-EX-5: upgrade at once, downgrade at the end of the term."""

    product_code = forms.ChoiceField(label="New plan")

    def __init__(self, *args: Any, plans: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_code"].choices = _choices(plans)  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    """Cancelling a service takes no input; the preview shows what it costs (R-HW-5)."""


class SshOpenForm(forms.Form):
    minutes = forms.IntegerField(
        initial=SSH_DEFAULT_MINUTES, help_text=f"1 to {SSH_MAX_MINUTES} minutes (R-PBX-11)"
    )


class CorrectionForm(forms.Form):
    """R-PBX-10: within 1 business day, the quantity that should be there."""

    change_date = forms.DateField(help_text="The day of the mistaken activation or change (YYYY-MM-DD)")
    profile = forms.ChoiceField()
    quantity = forms.IntegerField(min_value=0, help_text="The quantity that should be there")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, profiles: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = _choices(profiles)  # type: ignore[attr-defined]


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=300)
