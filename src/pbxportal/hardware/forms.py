from django import forms


class AgreementUploadForm(forms.Form):
    customer = forms.TypedChoiceField(coerce=int, label="Customer")
    file = forms.FileField(
        label="Agreement signed by the customer", help_text="PDF, PNG or JPEG, at most 10 MB (R-HW-2)"
    )

    def __init__(self, *args: object, customers: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["customer"].choices = customers  # type: ignore[attr-defined]


class StockAdjustForm(forms.Form):
    product_code = forms.CharField(max_length=60, widget=forms.HiddenInput)
    delta = forms.IntegerField(label="Received (+) or written off (-)")
    note = forms.CharField(max_length=200, required=False)
