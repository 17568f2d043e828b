from django import forms
from django.utils.translation import gettext_lazy as _


class AgreementUploadForm(forms.Form):
    customer = forms.TypedChoiceField(coerce=int, label=_("Customer"))
    file = forms.FileField(
        label=_("Agreement signed by the customer"), help_text=_("PDF, PNG or JPEG, at most 10 MB (R-HW-2)")
    )

    def __init__(self, *args: object, customers: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["customer"].choices = customers  # type: ignore[attr-defined]


class StockAdjustForm(forms.Form):
    product_code = forms.CharField(max_length=60, widget=forms.HiddenInput)
    delta = forms.IntegerField(label=_("Received (+) or written off (-)"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
