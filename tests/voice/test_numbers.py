"""Number orders with their documents (R-VT-10) and the CTA2 bundle and its switch (R-VT-5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from pbxportal.accounts.models import Partner, PartnerRole, StaffRole, User
from pbxportal.clock.services import clock_run
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, RuleViolation
from pbxportal.pbx import services as pbx_services
from pbxportal.pbx.models import Subscription, SubscriptionStatus
from pbxportal.voice import selectors, services
from pbxportal.voice.models import BundleSwitchStatus, NumberOrderStatus
from tests.voice.builders import VoiceWorld

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def world(db: Any, settings: Any, tmp_path: Any) -> VoiceWorld:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return VoiceWorld()


def care(world: VoiceWorld) -> Actor:
    return Actor(user=User.objects.create_user("cc", password="x" * 12, staff_role=StaffRole.CUSTOMER_CARE))


def pdf(name: str = "doc.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def complete_order(world: VoiceWorld, pbx_id: int, country: str = "IT") -> int:
    order = services.number_order_create(
        actor=world.actor,
        pbx_id=pbx_id,
        country=country,
        number_type="geographic",
        kind="new",
        address="Via Roma 1, Milano",
    )
    for name in order.required_documents:
        services.number_document_upload(actor=world.actor, order_id=order.pk, name=name, upload=pdf())
    return order.pk


def test_a_new_number_goes_from_draft_to_approved_and_starts_its_fee_co_termed(world: VoiceWorld) -> None:
    # given a yearly PBX expiring 10 Jan 2026 and a complete order for an Italian number
    pbx = world.pbx(start=date(2025, 1, 10))
    order_id = complete_order(world, pbx.pk)
    # when the partner submits it and customer care reviews and approves it on 1 July
    services.number_order_submit(actor=world.actor, order_id=order_id)
    staff = care(world)
    services.number_order_review(actor=staff, order_id=order_id)
    order = services.number_order_approve(
        actor=staff, order_id=order_id, number="02 1234 5678", today=date(2025, 7, 1)
    )
    # then the number is active as a subscription of the PBX, charged from that day to the PBX's expiry
    assert (order.status, order.number) == (NumberOrderStatus.APPROVED, "+390212345678")
    sub = Subscription.objects.get(pk=order.subscription_id)
    assert (sub.product.code, sub.attributes, sub.status) == ("DID-IT", {"number": "+390212345678"}, "active")
    line = sub.invoice_lines.get()
    # 1.50 x 12 = 18.00 a year; 1 Jul 2025 .. 10 Jan 2026 = 193 of 365 days
    assert (line.days_charged, line.days_in_term, line.amount) == (193, 365, Decimal("9.52"))


def test_an_incomplete_order_is_refused_and_a_rejection_keeps_its_reason(world: VoiceWorld) -> None:
    # given a porting order without its documents
    pbx = world.pbx(start=date(2025, 1, 10))
    order = services.number_order_create(
        actor=world.actor,
        pbx_id=pbx.pk,
        country="IT",
        number_type="geographic",
        kind="porting",
        number="+390612345678",
    )
    # when the partner submits it, then it is refused naming the missing porting documents
    with pytest.raises(RuleViolation) as refused:
        services.number_order_submit(actor=world.actor, order_id=order.pk)
    assert set(refused.value.fields) == {
        "document:Porting form",
        "document:Last invoice of the current operator",
    }
    # when it is completed, submitted and rejected by staff
    for name in order.required_documents:
        services.number_document_upload(actor=world.actor, order_id=order.pk, name=name, upload=pdf())
    services.number_order_submit(actor=world.actor, order_id=order.pk)
    staff = care(world)
    rejected = services.number_order_reject(
        actor=staff, order_id=order.pk, reason="Porting form unsigned", today=date(2025, 2, 1)
    )
    # then it is rejected with the reason, and cannot be approved any more
    assert (rejected.status, rejected.rejection_reason) == (
        NumberOrderStatus.REJECTED,
        "Porting form unsigned",
    )
    with pytest.raises(ApplicationError):
        services.number_order_approve(actor=staff, order_id=order.pk, today=date(2025, 2, 2))


def test_uploads_are_checked_by_content_and_size(world: VoiceWorld, settings: Any) -> None:
    # given a draft order and a 1 KB upload limit
    settings.VOICE_DOCUMENT_MAX_BYTES = 1024
    pbx = world.pbx(start=date(2025, 1, 10))
    order = services.number_order_create(
        actor=world.actor, pbx_id=pbx.pk, country="IT", number_type="geographic", kind="new", address="x"
    )
    name = order.required_documents[0]
    # when an executable named .pdf and a too large PDF are uploaded, then both are refused
    fake = SimpleUploadedFile("id.pdf", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")
    with pytest.raises(ApplicationError, match="only PDF, PNG or JPEG"):
        services.number_document_upload(actor=world.actor, order_id=order.pk, name=name, upload=fake)
    big = SimpleUploadedFile("id.pdf", PDF + b"\x00" * 2048, content_type="application/pdf")
    with pytest.raises(ApplicationError, match="1 to 1024 bytes"):
        services.number_document_upload(actor=world.actor, order_id=order.pk, name=name, upload=big)
    # and a real PDF is stored under MEDIA_ROOT
    document = services.number_document_upload(actor=world.actor, order_id=order.pk, name=name, upload=pdf())
    assert document.file.path.startswith(str(settings.MEDIA_ROOT))


def test_another_partners_number_orders_and_uploads_answer_404(world: VoiceWorld, make_partner: Any) -> None:
    # given an order with a document of partner P, and a user of another partner
    pbx = world.pbx(start=date(2025, 1, 10))
    order_id = complete_order(world, pbx.pk)
    document = selectors.number_order_get(actor=world.actor, order_id=order_id).documents.first()
    assert document is not None
    other: Partner = make_partner("other")
    intruder = Client()
    intruder.force_login(
        User.objects.create_user("o", password="x" * 12, partner=other, partner_role=PartnerRole.ADMIN)
    )
    owner = Client()
    owner.force_login(world.user)
    # when the other partner asks for them through the API and the pages, then they are not found
    for url in (
        f"/api/v1/voice/number-orders/{order_id}",
        f"/api/v1/voice/number-documents/{document.pk}",
        f"/voice/number-orders/{order_id}/",
        f"/voice/number-documents/{document.pk}/",
    ):
        assert intruder.get(url).status_code == 404, url
    # and the owner downloads the document it uploaded
    download = owner.get(f"/voice/number-documents/{document.pk}/")
    assert (download.status_code, b"".join(download.streaming_content)) == (200, PDF)  # type: ignore[attr-defined]


def test_the_cta2_bundle_needs_a_uae_or_saudi_did(world: VoiceWorld) -> None:
    # given a PBX without numbers
    pbx = world.pbx(start=date(2025, 1, 10))
    # when the CTA2 bundle is ordered, then it is refused (R-VT-5)
    with pytest.raises(RuleViolation) as refused:
        pbx_services.service_order(
            actor=world.actor, pbx=pbx, product_code="VOICE-CTA2", today=date(2025, 2, 1)
        )
    assert refused.value.rule == "R-VT-5"
    # and with a UAE DID it is accepted
    pbx_services.service_order(
        actor=world.actor,
        pbx=pbx,
        product_code="DID-AE",
        today=date(2025, 2, 1),
        attributes={"number": "+97142000001"},
    )
    pbx_services.service_order(actor=world.actor, pbx=pbx, product_code="VOICE-CTA2", today=date(2025, 2, 1))


def test_a_bundle_switch_ticket_applies_from_the_next_month(world: VoiceWorld) -> None:
    # given a PBX with the CTA1 bundle and a UAE DID
    pbx = world.trunk_pbx(start=date(2025, 1, 10))
    pbx_services.service_order(
        actor=world.actor,
        pbx=pbx,
        product_code="DID-AE",
        today=date(2025, 1, 10),
        attributes={"number": "+97142000002"},
    )
    # when the partner asks for the CTA2 bundle on 14 March and customer care approves it
    ticket = services.bundle_switch_request(
        actor=world.actor, pbx_id=pbx.pk, to_product_code="VOICE-CTA2", today=date(2025, 3, 14)
    )
    ticket = services.bundle_switch_decide(
        actor=care(world), ticket_id=ticket.pk, approve=True, today=date(2025, 3, 15)
    )
    assert ticket.effective_on == date(2025, 4, 1)
    # then nothing changes in March; on 1 April the clock swaps the bundles
    clock_run(until=date(2025, 3, 31), since=date(2025, 3, 15))
    assert Subscription.objects.get(pbx=pbx, product__code="VOICE-FLAT").status == SubscriptionStatus.ACTIVE
    clock_run(until=date(2025, 4, 1), since=date(2025, 4, 1))
    old = Subscription.objects.get(pbx=pbx, product__code="VOICE-FLAT")
    new = Subscription.objects.get(pbx=pbx, product__code="VOICE-CTA2")
    assert (old.status, old.ended_on, new.status, new.started_on) == (
        "cancelled",
        date(2025, 4, 1),
        "active",
        date(2025, 4, 1),
    )
    ticket.refresh_from_db()
    assert ticket.status == BundleSwitchStatus.APPLIED
