"""R-INV-3: each issued invoice is mailed to the billing contact (through a real SMTP server the
test starts) with a link that opens it once within 24 hours."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from pbxportal.invoicing.models import Invoice, InvoiceLink
from tests.payments.conftest import START
from tests.pbx.builders import World


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.PORTAL_BASE_URL = "http://testserver"
    yield inbox
    controller.stop()


@pytest.fixture
def mailed(db: Any, smtp: Inbox, django_capture_on_commit_callbacks: Any) -> tuple[Invoice, str]:
    # an invoice issued (a new PBX), its mail sent after commit through the SMTP server
    with django_capture_on_commit_callbacks(execute=True):
        world = World()
        pbx = world.pbx(start=START)
    invoice = Invoice.objects.get(pbx=pbx)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "billing@p.example"
    assert invoice.number in message["Subject"]
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    url = re.search(r"http://testserver(/\S+)", body)
    assert url is not None
    return invoice, url.group(1)


def test_the_link_opens_the_invoice_once(mailed: tuple[Invoice, str]) -> None:
    # given the mailed link / when it is opened twice without logging in
    invoice, path = mailed
    first, second = Client().get(path), Client().get(path)
    # then the invoice shows once, and the second use is refused with a clear page
    assert first.status_code == 200 and invoice.number.encode() in first.content  # type: ignore[union-attr]
    assert second.status_code == 410
    assert b"has been used already" in second.content and invoice.number.encode() not in second.content  # type: ignore[union-attr]
    # and only a digest of the token is stored
    token = path.split("token=")[1]
    assert not InvoiceLink.objects.filter(digest__contains=token.split(":")[0]).exists()


def test_the_link_expires_after_24_hours(mailed: tuple[Invoice, str]) -> None:
    # given the mailed link, 24 hours and a minute later
    _, path = mailed
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        # when it is opened / then it is refused as expired
        response = Client().get(path)
    assert response.status_code == 410 and b"expired" in response.content
    # and it was not spent by the refused attempt
    assert InvoiceLink.objects.get().used_at is None


def test_the_link_works_just_before_24_hours(mailed: tuple[Invoice, str]) -> None:
    _, path = mailed
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59)):
        assert Client().get(path).status_code == 200


@pytest.mark.parametrize("forge", ["drop-last", "other-raw", "garbage"])
def test_a_forged_token_is_refused(mailed: tuple[Invoice, str], forge: str) -> None:
    # given a token changed by someone guessing
    invoice, path = mailed
    token = path.split("token=")[1]
    raw, signature = token.rsplit(":", 1)
    forged = {
        "drop-last": token[:-1],
        "other-raw": "A" + raw[1:] + ":" + signature,
        "garbage": "not-a-token",
    }[forge]
    # when it is used / then it is refused, and the real link still works afterwards
    response = Client().get(f"/invoices/open/?token={forged}")
    assert response.status_code == 400 and b"not valid" in response.content
    assert invoice.number.encode() not in response.content  # type: ignore[union-attr]
    assert Client().get(path).status_code == 200


def test_the_invoice_stays_in_the_portal_after_the_link(mailed: tuple[Invoice, str], client_for: Any) -> None:
    # given the link used once
    invoice, path = mailed
    Client().get(path)
    # when the partner opens the invoice in the portal and downloads the PDF / then both work
    client = client_for(invoice.partner.users.get())
    assert client.get(f"/invoices/{invoice.pk}/").status_code == 200
    pdf = client.get(f"/invoices/{invoice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
