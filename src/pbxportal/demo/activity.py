"""A few months of a partner's life in the demo data, made through the services as a partner, the
vendor's staff and the PBXs would make it (issue 16: pages shown and checked with content).

Alpha Telecom (Italy, per-user PBXs, EUR):

- ``rossi-milano``: a VM/HW PBX started 345 days ago (its yearly term ends in 20 days, so it is on
  the dashboard's expiring list), activated with its key, firmware reported by the PBX, with the
  CLASSOUND voice trunk ordered 35 days ago and 30 days of calls imported and rated; both its
  invoices paid by bank transfer, recorded by the vendor's staff; a HWaaS cart placed (phones) after
  the customer's agreement was accepted;
- ``rossi-magazzino``: started a payment term (30 days) and a day ago, its invoice fell due yesterday and is overdue (day 1:
  no restriction yet);
- ``bianchi-cloud``: a cloud PBX ordered today (invoice due in 30 days), with a new Italian number
  ordered and submitted for review with its documents, and a correction filed today;
- an HWaaS agreement of another customer waiting for the area manager's review.

Beta Networks (Germany): ``spree-dental``, a monthly PBX renewed by a bill run.

Gamma Soft (US, P-Series software PBX, USD): ``lakeside-resort`` with its plan paid and 20 more
extensions ordered by bank transfer, awaiting payment (the staff's offline-payments queue).

Dates are relative to the day the demo is loaded.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pbxportal.accounts.models import BillingContact, Customer, User
from pbxportal.agent.services import agent_report_firmware
from pbxportal.common.actor import Actor
from pbxportal.common.timeutil import vendor_today, vendor_tz
from pbxportal.expansions.services import ServiceRequest, expansion_checkout
from pbxportal.hardware import services as hardware
from pbxportal.invoicing.models import Invoice
from pbxportal.overdue.services import overdue_run
from pbxportal.payments.services import payment_record_offline
from pbxportal.pbx import services as pbx_services
from pbxportal.pbx.billrun import billrun_day
from pbxportal.pbx.models import Pbx
from pbxportal.voice import pipeline
from pbxportal.voice.services import numbers

# A one-page PDF, enough for the content checks of the upload services (PDF, PNG or JPEG).
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%%EOF\n"
# Callees of the demo calls: mostly Italy, Germany, the US (CTA1, in the allowance), some to the
# UAE (CTA2), Switzerland and China (CTA3) and a UK personal number (CTA4), charged per minute.
CALLEES = (
    "+390612345678",
    "+390287654321",
    "+393471234567",
    "+4930123456789",
    "+12125551234",
    "+390612345679",
    "+393331234567",
    "+97142345678",
    "+41441234567",
    "+861012345678",
    "+447012345678",
)


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _pbx(
    actor: Actor,
    customer: Customer,
    *,
    name: str,
    model: str,
    licences: dict[str, int],
    day: date,
    region: str = "",
    term: str = "yearly",
) -> Pbx:
    result = pbx_services.pbx_create(
        actor=actor,
        customer_id=customer.pk,
        model_code=model,
        name=name,
        term=term,
        licences=licences,
        region=region,
        today=day,
    )
    assert result.pbx is not None
    return result.pbx  # carries ``new_pbx_key``, shown once (only its digest is stored, R-PBX-3)


def _pay(staff: Actor, pbx: Pbx, *, received_on: date) -> None:
    """The vendor's staff record the bank transfer of each open invoice of the PBX (R-INV-4)."""
    for invoice in Invoice.objects.filter(pbx=pbx, kind="invoice").exclude(number=None).order_by("id"):
        if invoice.amount_due > 0:
            payment_record_offline(
                actor=staff, invoice_id=invoice.pk, amount=invoice.amount_due, received_on=received_on
            )


def _calls(pbx: Pbx, *, today: date, days: int) -> None:
    """``days`` days of outbound calls imported as the PBX's portal CSV records (R-VT-8)."""
    records = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        calls = 4 if day.weekday() >= 5 else 22 + back % 9  # quieter weekends
        for n in range(calls):
            start = datetime.combine(day, time(8 + n % 11, (7 * n + back) % 60), tzinfo=vendor_tz())
            records.append(
                {
                    "call_id": f"demo-{pbx.serial}-{day.isoformat()}-{n}",
                    "start": start.isoformat(),
                    "caller": "+390299999999",
                    "callee": CALLEES[(n + back) % len(CALLEES)],
                    "billsec": 20 + (n * 97 + back * 31) % 700,
                    "kind": "voice",
                }
            )
    pipeline.import_records(records, pbx=pbx, name="demo calls", source="demo")


def load_activity() -> None:
    today = vendor_today()
    now = timezone.now()
    staff = Actor(user=User.objects.get(username="admin"))
    area_manager = Actor(user=User.objects.get(username="areamanager"))
    alpha = Actor(user=User.objects.get(username="alpha-admin"))
    rossi = Customer.objects.get(partner__code="alpha", name__startswith="Rossi")
    bianchi = Customer.objects.get(partner__code="alpha", name__startswith="Bianchi")
    dubai = Customer.objects.get(partner__code="alpha", name__startswith="Dubai")

    # rossi-milano: a year nearly over, a voice trunk with a month of calls, everything paid
    start = today - timedelta(days=345)
    milano = _pbx(
        alpha,
        rossi,
        name="rossi-milano",
        model="WPBX-VMHW",
        day=start,
        licences={"UC-BUSINESS": 6, "UC-ESSENTIAL": 4},
    )
    pbx_services.pbx_activate_with_key(pbx_key=milano.new_pbx_key, now=now - timedelta(days=345))
    agent_report_firmware(pbx_id=milano.pk, firmware_version="7.1.2")
    _pay(staff, milano, received_on=start + timedelta(days=12))
    trunk_day = today - timedelta(days=35)
    pbx_services.pbx_service_order(
        actor=alpha, pbx_id=milano.pk, product_code="CLASSOUND-FLAT", today=trunk_day
    )
    _pay(staff, milano, received_on=trunk_day + timedelta(days=9))
    _calls(milano, today=today, days=30)

    # HWaaS: Rossi's agreement accepted by the area manager, then a cart of phones placed
    agreement = hardware.agreement_upload(actor=alpha, customer_id=rossi.pk, upload=_pdf("hwaas-rossi.pdf"))
    hardware.agreement_accept(actor=area_manager, agreement_id=agreement.pk)
    order = hardware.order_create(actor=alpha, pbx_id=milano.pk)
    hardware.order_line_set(actor=alpha, order_id=order.pk, product_code="HW-WP480", quantity=4)
    hardware.order_place(actor=alpha, order_id=order.pk, today=today)
    # another customer's agreement waits for review
    hardware.agreement_upload(actor=alpha, customer_id=dubai.pk, upload=_pdf("hwaas-dubai.pdf"))

    # rossi-magazzino: its first invoice fell due yesterday (issued a payment term and a day ago)
    magazzino = _pbx(
        alpha,
        rossi,
        name="rossi-magazzino",
        model="WPBX-VMHW",
        day=today - timedelta(days=settings.INVOICE_PAYMENT_DAYS + 1),
        licences={"UC-BUSINESS": 3},
    )
    pbx_services.pbx_activate_with_key(pbx_key=magazzino.new_pbx_key, now=now - timedelta(days=30))
    overdue_run(day=today)

    # bianchi-cloud: ordered today, a new number on its way, a correction filed
    cloud = _pbx(
        alpha,
        bianchi,
        name="bianchi-cloud",
        model="WPBX-CLOUD",
        day=today,
        region="eu-west",
        licences={"UC-BUSINESS": 12, "UC-PREMIUM": 2},
    )
    pbx_services.pbx_activate(pbx=cloud, now=now)
    number_order = numbers.number_order_create(
        actor=alpha,
        pbx_id=cloud.pk,
        country="IT",
        number_type="geographic",
        kind="new",
        address="Via del Corso 101, 00186 Roma RM",
    )
    for document in number_order.required_documents:
        numbers.number_document_upload(
            actor=alpha, order_id=number_order.pk, name=document, upload=_pdf("document.pdf")
        )
    numbers.number_order_submit(actor=alpha, order_id=number_order.pk)
    pbx_services.correction_file(
        actor=alpha, pbx_id=cloud.pk, change_date=today, quantities={"UC-BUSINESS": 10}, today=today
    )

    # beta: a monthly PBX renewed by the bill run of the last day of its first month (R-PBX-5)
    beta = Actor(user=User.objects.get(username="beta-admin"))
    dental = Customer.objects.get(partner__code="beta")
    spree = _pbx(
        beta,
        dental,
        name="spree-dental",
        model="WPBX-VMHW",
        day=today - timedelta(days=40),
        licences={"UC-BUSINESS": 5},
        term="monthly",
    )
    pbx_services.pbx_activate_with_key(pbx_key=spree.new_pbx_key, now=now - timedelta(days=40))
    _pay(staff, spree, received_on=today - timedelta(days=35))
    spree.refresh_from_db()
    assert spree.invoiced_through is not None
    billrun_day(day=spree.invoiced_through - timedelta(days=1))
    pbx_services.term_boundary(day=spree.invoiced_through)  # the clock's job of the next day

    # gamma: a P-Series software PBX, its plan paid, 20 extensions awaiting a bank transfer
    gamma = Actor(user=User.objects.get(username="gamma-admin"))
    lakeside = Customer.objects.get(partner__code="gamma")
    resort = _pbx(
        gamma,
        lakeside,
        name="lakeside-resort",
        model="PSE-ENTERPRISE",
        day=today - timedelta(days=60),
        licences={},
    )
    _pay(staff, resort, received_on=today - timedelta(days=50))
    expansion_checkout(
        actor=gamma,
        pbx_id=resort.pk,
        services=[ServiceRequest("PSE-EXT", quantity=20)],
        payment_method="offline",
        billing_contact_id=BillingContact.objects.get(partner__code="gamma", is_default=True).pk,
        pi_number="PI-2026-118",
        today=today,
    )
