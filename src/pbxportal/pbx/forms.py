"""Forms of the PBX pages: they only validate input; the services decide (and refuse with a rule id)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from pbxportal.catalog.models import Product
from pbxportal.pbx.services import SSH_DEFAULT_MINUTES, SSH_MAX_MINUTES

TERMS = [
    ("yearly", _("Yearly")),
    ("monthly", _("Monthly")),
    ("five_year", _("Five years")),
    ("lifetime", _("Lifetime")),
]
LICENCE_PREFIX = "licence_"


def _choices(products: list[Product]) -> list[tuple[str, str]]:
    return [(p.code, f"{p.name} ({p.code})") for p in products]


class PbxCreateForm(forms.Form):
    """A new PBX (R-PBX-1): the licence quantities get one field per licence profile of the catalog."""

    customer_id = forms.TypedChoiceField(label=_("Customer"), coerce=int)
    model_code = forms.ChoiceField(label=_("Model"))
    name = forms.CharField(
        label=_("Name"),
        max_length=63,
        help_text=_("A DNS label; a cloud PBX answers at https://NAME.<domain>"),
    )
    region = forms.ChoiceField(
        label=_("Region"), required=False, help_text=_("Cloud PBXs only, required there")
    )
    term = forms.ChoiceField(
        label=_("Term"), choices=TERMS, help_text=_("Every licence and service of the PBX shares it")
    )
    storage_blocks = forms.IntegerField(
        label=_("Storage blocks"), min_value=0, initial=0, required=False, help_text=_("Cloud PBXs only")
    )

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
                label=_("%(profile)s licences") % {"profile": profile.name},
                min_value=0,
                initial=0,
                required=False,
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

    profile = forms.ChoiceField(label=_("Profile"))
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=0, help_text=_("The new quantity, not the difference")
    )

    def __init__(self, *args: Any, profiles: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = _choices(profiles)  # type: ignore[attr-defined]


class ServiceOrderForm(forms.Form):
    """A co-terminated service (R-CO-1): the term, when given, must be the PBX's."""

    product_code = forms.ChoiceField(label=_("Service"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    term = forms.ChoiceField(
        label=_("Term"),
        choices=[("", _("The PBX's term")), *TERMS],
        required=False,
        help_text=_("Services share the PBX's term"),
    )

    def __init__(self, *args: Any, products: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_code"].choices = _choices(products)  # type: ignore[attr-defined]


class PlanSwitchForm(forms.Form):
    """R-EX-5: upgrade at once, downgrade at the end of the term."""

    product_code = forms.ChoiceField(label=_("New plan"))

    def __init__(self, *args: Any, plans: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_code"].choices = _choices(plans)  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    """Cancelling a service takes no input; the preview shows what it costs (R-HW-5)."""


class SshOpenForm(forms.Form):
    minutes = forms.IntegerField(
        label=_("Minutes"),
        initial=SSH_DEFAULT_MINUTES,
        help_text=format_lazy(_("1 to {minutes} minutes (R-PBX-11)"), minutes=SSH_MAX_MINUTES),
    )


class CorrectionForm(forms.Form):
    """R-PBX-10: within 1 business day, the quantity that should be there."""

    change_date = forms.DateField(
        label=_("Change date"), help_text=_("The day of the mistaken activation or change (YYYY-MM-DD)")
    )
    profile = forms.ChoiceField(label=_("Profile"))
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=0, help_text=_("The quantity that should be there")
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, profiles: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = _choices(profiles)  # type: ignore[attr-defined]


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
