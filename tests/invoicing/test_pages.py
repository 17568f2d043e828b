"""R-INV-3, R-UI-1: the ZIP of a period's PDFs; the staff pages for overdue partners and bill runs."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import pytest

from pbxportal.invoicing.models import Invoice
from tests.pbx.builders import World


@pytest.fixture
def world(db: Any) -> World:
    world = World()
    world.pbx(start=date(2025, 3, 10))
    world.pbx(start=date(2025, 4, 2))
    return world


def test_zip_holds_the_pdfs_of_the_chosen_period_only(world: World, client_for: Any) -> None:
    # given invoices issued on 10 March and 2 April / when March is downloaded
    response = client_for(world.user).get("/invoices/zip/?from=2025-03-01&to=2025-03-31")
    # then the ZIP holds March's PDF only
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    march = Invoice.objects.get(issued_on=date(2025, 3, 10))
    assert names == [f"{march.number}.pdf"]
    assert zipfile.ZipFile(io.BytesIO(response.content)).read(names[0]).startswith(b"%PDF")


@pytest.mark.overdue_policy
def test_staff_see_overdue_partners(world: World, client_for: Any) -> None:
    # given the default policy and a partner with invoices due long ago / when staff open the list
    response = client_for(world.staff).get("/overdue/staff/")
    # then the partner is listed with its stage
    assert response.status_code == 200
    assert b"Services suspended" in response.content and world.partner.name.encode() in response.content


def test_partners_cannot_open_staff_pages(world: World, client_for: Any) -> None:
    client = client_for(world.user)
    for url in ("/overdue/staff/", "/staff/bill-runs/", "/payments/staff/offline/"):
        assert client.get(url).status_code == 403, url
