"""Builders for the HWaaS tests: signed-agreement files and a customer ready to order."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from pbxportal.hardware import services
from pbxportal.hardware.models import HwaasAgreement
from tests.pbx.builders import World

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf_upload(name: str = "signed-agreement.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def accepted_agreement(world: World) -> HwaasAgreement:
    """The world's customer signed the HWaaS agreement and its area manager accepted it (R-HW-2)."""
    from pbxportal.common.actor import Actor

    agreement = services.agreement_upload(
        actor=world.actor, customer_id=world.customer.pk, upload=pdf_upload()
    )
    return services.agreement_accept(actor=Actor(user=world.manager), agreement_id=agreement.pk)
