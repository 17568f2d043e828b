"""R-HW-2: the HWaaS agreement signed by the customer, reviewed by the partner's area manager."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pbxportal.accounts.models import StaffRole, User
from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, Conflict, Forbidden, NotFound, RuleViolation
from pbxportal.hardware import services
from pbxportal.hardware.models import AgreementStatus, HardwareOrder
from tests.hardware.helpers import PDF, PNG, accepted_agreement, pdf_upload
from tests.pbx.builders import World

pytestmark = pytest.mark.django_db


def test_no_cart_before_the_agreement_is_accepted(world: World) -> None:
    # given a monthly PBX of a customer without an agreement
    pbx = world.pbx(term="monthly", start=date(2024, 3, 1))
    # when the partner opens a cart / then R-HW-2 refuses it
    with pytest.raises(RuleViolation) as refused:
        services.order_create(actor=world.actor, pbx_id=pbx.pk)
    assert refused.value.rule == "R-HW-2"
    # and an uploaded agreement still waiting for review is not enough
    services.agreement_upload(actor=world.actor, customer_id=world.customer.pk, upload=pdf_upload())
    with pytest.raises(RuleViolation) as refused:
        services.order_create(actor=world.actor, pbx_id=pbx.pk)
    assert refused.value.rule == "R-HW-2"
    assert not HardwareOrder.objects.exists()
    # and once the area manager accepts it, the cart opens
    accepted_agreement(world)
    assert services.order_create(actor=world.actor, pbx_id=pbx.pk).status == "draft"


def test_upload_is_stored_under_media_root_with_a_random_name(world: World, media_root: Path) -> None:
    # when the partner uploads a PDF named by the customer
    agreement = services.agreement_upload(
        actor=world.actor, customer_id=world.customer.pk, upload=pdf_upload("../../etc/Signed by ACME.pdf")
    )
    # then it waits for review, typed by its content, kept under MEDIA_ROOT under a name we chose
    assert agreement.status == AgreementStatus.PENDING
    assert (agreement.content_type, agreement.size) == ("application/pdf", len(PDF))
    assert agreement.original_name == "Signed by ACME.pdf"
    stored = Path(agreement.file.path)
    assert stored.is_relative_to(media_root) and stored.read_bytes() == PDF
    assert "ACME" not in stored.name and stored.suffix == ".pdf"


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("agreement.pdf", b"<html><script>alert(1)</script></html>", "not a PDF or image"),
        ("agreement.exe", b"MZ\x90\x00", "not a PDF or image"),
        ("agreement.pdf", b"", "empty"),
        ("agreement.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "too large"),
    ],
)
def test_upload_refuses_other_types_and_sizes(world: World, name: str, content: bytes, why: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.agreement_upload(
            actor=world.actor, customer_id=world.customer.pk, upload=SimpleUploadedFile(name, content)
        )
    assert refused.value.fields == {"file": why}


def test_an_image_is_accepted_as_a_signed_agreement(world: World) -> None:
    agreement = services.agreement_upload(
        actor=world.actor, customer_id=world.customer.pk, upload=SimpleUploadedFile("scan.png", PNG)
    )
    assert agreement.content_type == "image/png"


def test_area_manager_rejects_with_a_reason_then_a_new_upload_is_accepted(world: World) -> None:
    manager = Actor(user=world.manager)
    first = services.agreement_upload(actor=world.actor, customer_id=world.customer.pk, upload=pdf_upload())
    # a rejection needs a reason
    with pytest.raises(ApplicationError):
        services.agreement_reject(actor=manager, agreement_id=first.pk, reason="  ")
    rejected = services.agreement_reject(actor=manager, agreement_id=first.pk, reason="Page 2 is not signed")
    assert (rejected.status, rejected.reason, rejected.decided_by) == (
        "rejected",
        "Page 2 is not signed",
        world.manager,
    )
    # a decided agreement cannot be decided again
    with pytest.raises(Conflict):
        services.agreement_accept(actor=manager, agreement_id=first.pk)
    second = services.agreement_upload(actor=world.actor, customer_id=world.customer.pk, upload=pdf_upload())
    assert services.agreement_accept(actor=manager, agreement_id=second.pk).status == "accepted"


def test_only_the_partners_area_manager_or_an_admin_reviews(world: World) -> None:
    agreement = services.agreement_upload(
        actor=world.actor, customer_id=world.customer.pk, upload=pdf_upload()
    )
    other_manager = User.objects.create_user("am2", password="x" * 12, staff_role=StaffRole.AREA_MANAGER)
    care = User.objects.create_user("cc", password="x" * 12, staff_role=StaffRole.CUSTOMER_CARE)
    # the partner itself cannot accept its own upload
    with pytest.raises(Forbidden):
        services.agreement_accept(actor=world.actor, agreement_id=agreement.pk)
    # another partner's area manager does not even see it
    with pytest.raises(NotFound):
        services.agreement_accept(actor=Actor(user=other_manager), agreement_id=agreement.pk)
    with pytest.raises(Forbidden):
        services.agreement_accept(actor=Actor(user=care), agreement_id=agreement.pk)
    assert services.agreement_accept(actor=world.staff_actor, agreement_id=agreement.pk).status == "accepted"
