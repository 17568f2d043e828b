"""How the tenancy test gets an object of another partner for each path parameter name.

Every path parameter of every API route and page must be listed here: the walker fails on a
parameter it does not know, so a new endpoint cannot skip the cross-partner check. A builder
takes the victim partner and returns the value to put in the path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pbxportal.accounts.models import ApiToken, BillingContact, Customer, Partner, User

Builder = Callable[[Partner], Any]
BUILDERS: dict[str, Builder] = {}


def builder(*names: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for name in names:
            BUILDERS[name] = fn
        return fn

    return register


@builder("customer_id")
def _customer(partner: Partner) -> int:
    return Customer.objects.create(
        partner=partner, name=f"Victim customer {Customer.objects.count()}", country="FR"
    ).pk


@builder("contact_id")
def _contact(partner: Partner) -> int:
    return BillingContact.objects.create(
        partner=partner, name="Victim billing", email="victim@example.com"
    ).pk


@builder("token_id")
def _token(partner: Partner) -> int:
    user = User.objects.filter(partner=partner).first()
    assert user is not None
    return ApiToken.objects.create(
        partner=partner, user=user, name="victim", prefix="pbxp_victim", digest=f"{partner.pk:064d}"
    ).pk


@builder("partner_id")
def _partner(partner: Partner) -> int:
    return partner.pk


@builder("book_code")
def _book(partner: Partner) -> str:
    return partner.price_book.code


def _victim_pbx(partner: Partner) -> Any:
    """A PBX of the victim partner, written directly (the walker needs ids, not prices)."""
    from datetime import date

    from pbxportal.catalog.models import Product
    from pbxportal.pbx.models import Pbx

    model, _ = Product.objects.get_or_create(
        code="TENANCY-VMHW", defaults={"name": "Victim model", "family": "pbx", "pricing_model": "flat"}
    )
    n = Pbx.objects.count() + 1
    customer = Customer.objects.create(partner=partner, name=f"Victim PBX owner {n}", country="FR")
    return Pbx.objects.create(
        partner=partner,
        customer=customer,
        model=model,
        name=f"victim-{partner.pk}-{n}",
        term="yearly",
        anchor_date=date(2024, 1, 10),
        expires_on=date(2025, 1, 10),
        invoiced_through=date(2025, 1, 10),
        serial=f"PBX-VICTIM{partner.pk:03d}{n:04d}",
    )


@builder("pbx_id")
def _pbx(partner: Partner) -> int:
    return int(_victim_pbx(partner).pk)


@builder("subscription_id")
def _subscription(partner: Partner) -> int:
    from datetime import date

    from pbxportal.catalog.models import Plan
    from pbxportal.pbx.models import Subscription

    pbx = _victim_pbx(partner)
    plan, _ = Plan.objects.get_or_create(
        product=pbx.model, term="yearly", defaults={"code": "TENANCY-VMHW-y"}
    )
    return int(
        Subscription.objects.create(pbx=pbx, product=pbx.model, plan=plan, started_on=date(2024, 1, 10)).pk
    )


@builder("correction_id")
def _correction(partner: Partner) -> int:
    from datetime import date

    from pbxportal.pbx.models import CorrectionRequest

    pbx = _victim_pbx(partner)
    return int(
        CorrectionRequest.objects.create(
            pbx=pbx, filed_on=date(2024, 1, 11), change_date=date(2024, 1, 10), quantities={"UC-BUSINESS": 1}
        ).pk
    )


@builder("invoice_id")
def _invoice(partner: Partner) -> int:
    from pbxportal.invoicing.models import Invoice

    return int(Invoice.objects.create(partner=partner, currency=partner.price_book.currency).pk)


@builder("agreement_id")
def _hwaas_agreement(partner: Partner) -> int:
    """An HWaaS agreement of the victim (R-HW-2); the file is never reached, so none is written."""
    from pbxportal.hardware.models import HwaasAgreement

    customer = Customer.objects.create(
        partner=partner, name=f"Victim HWaaS {Customer.objects.count()}", country="FR"
    )
    agreement = HwaasAgreement.objects.create(
        partner=partner,
        customer=customer,
        file="hwaas-agreements/victim.pdf",
        original_name="victim.pdf",
        content_type="application/pdf",
        size=9,
    )
    return int(agreement.pk)


@builder("order_id")
def _hardware_order(partner: Partner) -> int:
    from pbxportal.hardware.models import HardwareOrder

    pbx = _victim_pbx(partner)
    return int(HardwareOrder.objects.create(partner=partner, customer=pbx.customer, pbx=pbx).pk)


@builder("expansion_order_id")
def _expansion_order(partner: Partner) -> int:
    from datetime import date

    from pbxportal.expansions.models import ExpansionOrder

    pbx = _victim_pbx(partner)
    contact = BillingContact.objects.create(partner=partner, name="Victim", email="victim@example.com")
    return int(
        ExpansionOrder.objects.create(
            partner=partner,
            pbx=pbx,
            billing_contact=contact,
            payment_method="offline",
            ordered_on=date(2024, 1, 10),
            currency=partner.price_book.currency,
        ).pk
    )


@builder("licence_version")
def _licence_version(partner: Partner) -> int:
    """A version number: the page also takes the victim's ``pbx_id``, which must already be a 404."""
    return 1


def _victim_number_order(partner: Partner) -> Any:
    from pbxportal.catalog.models import NumberRequirement
    from pbxportal.voice.models import NumberOrder

    requirement, _ = NumberRequirement.objects.get_or_create(
        country="FR", number_type="tenancy", defaults={"documents": ["Identity document"]}
    )
    return NumberOrder.objects.create(pbx=_victim_pbx(partner), requirement=requirement, kind="new")


@builder("number_order_id")
def _number_order(partner: Partner) -> int:
    return int(_victim_number_order(partner).pk)


@builder("number_document_id")
def _number_document(partner: Partner) -> int:
    from pbxportal.voice.models import NumberDocument

    order = _victim_number_order(partner)
    return int(
        NumberDocument.objects.create(
            order=order,
            name="Identity document",
            file="number-documents/victim.pdf",
            original_name="victim.pdf",
            content_type="application/pdf",
            size=5,
        ).pk
    )


@builder("bundle_ticket_id")
def _bundle_ticket(partner: Partner) -> int:
    from datetime import date

    from pbxportal.catalog.models import Product
    from pbxportal.voice.models import BundleSwitchTicket

    product, _ = Product.objects.get_or_create(
        code="TENANCY-CTA2", defaults={"name": "Victim bundle", "family": "voice", "pricing_model": "flat"}
    )
    return int(
        BundleSwitchTicket.objects.create(
            pbx=_victim_pbx(partner), to_product=product, requested_on=date(2024, 2, 1)
        ).pk
    )


@builder("reference")
def _sandbox_checkout(partner: Partner) -> str:
    """A sandbox checkout of the victim's invoice (the hosted test page, R-INV-4)."""
    from pbxportal.payments.models import Checkout

    invoice_id = _invoice(partner)
    return Checkout.objects.create(
        partner=partner,
        invoice_id=invoice_id,
        provider="sandbox",
        reference=f"chk_victim_{invoice_id}",
        amount=1,
        currency=partner.price_book.currency,
        redirect_url="/payments/sandbox/x/",
    ).reference


@builder("user_id")
def _partner_user(partner: Partner) -> int:
    return User.objects.create_user(
        f"victim-user-{User.objects.count()}", password="x" * 12, partner=partner, partner_role="sales"
    ).pk


@builder("price_id")
def _price(partner: Partner) -> int:
    from pbxportal.catalog.models import Plan, Price, Product

    product, _ = Product.objects.get_or_create(
        code="VICTIM-PRODUCT", defaults={"name": "v", "family": "fee", "pricing_model": "one_off"}
    )
    plan, _ = Plan.objects.get_or_create(product=product, code="VICTIM-PLAN", defaults={"term": "one_off"})
    price, _ = Price.objects.get_or_create(book=partner.price_book, plan=plan, defaults={"amount": 1})
    return price.pk


@builder("job_id")
def _import_job(partner: Partner) -> int:
    """An import job of the victim's PBX (issue 12: /voice/imports/, /api/v1/voice/imports/)."""
    from pbxportal.voice.models import ImportJob

    pbx_id = _pbx(partner)
    return ImportJob.objects.create(
        pbx_id=pbx_id, partner=partner, file_name="victim.csv", sha256="0" * 64, format="csv"
    ).pk


@builder("notification_id")
def _notification(partner: Partner) -> int:
    """A notification of a user of the victim (issue 16 item 7: /notifications/<id>/...)."""
    from pbxportal.notifications.models import Notification

    user = User.objects.filter(partner=partner).first() or User.objects.create_user(
        f"victim-notified-{partner.pk}", partner=partner, partner_role="admin"
    )
    return Notification.objects.create(partner=partner, user=user, kind="renewal_reminder", title="Victim").pk


@builder("template_code")
def _template(partner: Partner) -> str:
    """A downloadable template (issue 16 item 8): vendor data, reached by partners only through
    /documents/ (not partner data); its staff pages answer 403 to a partner."""
    from pbxportal.catalog.models import DocumentTemplate

    template, _ = DocumentTemplate.objects.get_or_create(
        code="victim-template", defaults={"kind": "porting_form", "title": "Porting form"}
    )
    return template.code


@builder("template_version")
def _template_version(partner: Partner) -> int:
    """A template's version number (a staff page: a partner is refused before any lookup)."""
    return 1


@builder("method_id")
def _saved_method(partner: Partner) -> int:
    """A card the victim saved with a provider (issue 14 item 6: /payments/methods/<id>/...)."""
    import secrets

    from pbxportal.payments.models import SavedPaymentMethod

    ref = secrets.token_hex(6)
    return SavedPaymentMethod.objects.create(
        partner=partner,
        provider="sandbox",
        customer_ref=f"cus_victim_{ref}",
        method_ref=f"pm_victim_{ref}",
    ).pk
