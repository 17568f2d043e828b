from django import forms
from django.utils.translation import gettext_lazy as _

from pbxportal.accounts.models import PartnerRole, TokenScope
from pbxportal.accounts.services import CUSTOMER_FIELDS, TOKEN_EXPIRY_DAYS


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.CharField(label=_("Country"), max_length=2, help_text=_("ISO 3166 alpha-2, e.g. IT"))
    vat_number = forms.CharField(label=_("VAT number"), max_length=40, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)

    field_order = list(CUSTOMER_FIELDS)


class BillingContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"))
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    is_default = forms.BooleanField(label=_("Is default"), required=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    # Absent (older clients of the page) means read-write, as tokens were before scopes.
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices, required=False)
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires"),
        choices=[("", "never"), *((str(d), f"in {d} days") for d in TOKEN_EXPIRY_DAYS)],
        coerce=int,
        empty_value=None,
        required=False,
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=PartnerRole.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=PartnerRole.choices)


class AcceptInvitationForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password (again)"), widget=forms.PasswordInput)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class PartnerForm(forms.Form):
    """The back office's partner form; the service validates (accounts.back_office)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(label=_("Code"), max_length=60)
    country = forms.CharField(label=_("Country"), max_length=2, help_text=_("ISO 3166 alpha-2, e.g. IT"))
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    vat_number = forms.CharField(max_length=40, required=False, label=_("VAT number"))
    price_book = forms.ChoiceField(label=_("Price book"))
    area_manager = forms.ChoiceField(label=_("Area manager"), required=False)
    payment_terms_days = forms.IntegerField(
        required=False, min_value=0, max_value=365, label=_("Payment terms (days)")
    )
    credit_limit = forms.DecimalField(
        label=_("Credit limit"), required=False, min_value=0, decimal_places=2, max_digits=14
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        from pbxportal.accounts.models import StaffRole, User
        from pbxportal.catalog.models import PriceBook

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["price_book"].choices = [  # type: ignore[attr-defined]
            (b.code, f"{b.name} ({b.get_type_display()}, {b.currency})") for b in PriceBook.objects.all()
        ]
        self.fields["area_manager"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (str(u.pk), u.get_full_name() or u.username)
            for u in User.objects.filter(staff_role=StaffRole.AREA_MANAGER, is_active=True)
        ]


class NewPartnerForm(PartnerForm):
    first_admin_email = forms.EmailField(required=False, label=_("First admin's email (invited)"))
