"""Issue 16 item 8: the country documents of number orders, the porting form and the HWaaS
agreement as catalog data files a vendor admin can replace (a new version, the old kept)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from pbxportal.catalog import doc_templates
from pbxportal.catalog.loader import CatalogError, load_catalog
from pbxportal.catalog.models import DocumentTemplate, DocumentTemplateVersion
from pbxportal.common.actor import Actor
from pbxportal.common.errors import Forbidden
from pbxportal.common.models import AuditEvent
from pbxportal.demo.seed import CATALOGS
from pbxportal.voice import services as voice
from tests.voice.builders import VoiceWorld

PER_USER = CATALOGS / "per_user"
NEW_PDF = b"%PDF-1.4\n% replaced by the vendor\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(db: Any, settings: Any, tmp_path: Path) -> VoiceWorld:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    world = VoiceWorld()
    for code, kind, country in (
        ("numbers-IT", "number_documents", "IT"),
        ("numbers-GB", "number_documents", "GB"),
        ("porting-form", "porting_form", ""),
        ("hwaas-agreement", "hwaas_agreement", ""),
    ):
        doc_templates.template_load(
            code=code, kind=kind, country=country, title=code, path=PER_USER / "templates" / f"{code}.pdf"
        )
    return world


def _order(world: VoiceWorld, kind: str = "new") -> int:
    pbx = world.pbx(start=date(2025, 1, 10))
    extra = {"address": "Via Roma 1, Milano"} if kind == "new" else {"number": "+390612345678"}
    order = voice.number_order_create(
        actor=world.actor, pbx_id=pbx.pk, country="IT", number_type="geographic", kind=kind, **extra
    )
    return order.pk


def test_the_demo_catalog_ships_its_templates_and_a_reload_changes_nothing(db: Any) -> None:
    # given the per-user demo catalog, loaded twice
    assert load_catalog(PER_USER).templates == 9
    load_catalog(PER_USER)
    # then each template has one version: its PDF file from the catalog directory
    assert DocumentTemplate.objects.count() == 9
    assert set(DocumentTemplateVersion.objects.values_list("version", "source")) == {(1, "catalog")}
    italy = doc_templates.current_version("numbers-IT")
    assert bytes(italy.content).startswith(b"%PDF-")
    assert (italy.filename, italy.content_type) == ("numbers-IT.pdf", "application/pdf")
    assert DocumentTemplate.objects.get(code="hwaas-agreement").kind == "hwaas_agreement"


def test_the_partner_downloads_the_template_of_its_orders_country(world: VoiceWorld, client_for: Any) -> None:
    # given a draft order for an Italian number
    order_id = _order(world)
    client: Client = client_for(world.user)
    page = client.get(f"/voice/number-orders/{order_id}/").content.decode()
    # then its page offers the Italian template, not the British one nor the porting form
    assert "/documents/numbers-IT/download/" in page
    assert "/documents/numbers-GB/download/" not in page
    assert "/documents/porting-form/download/" not in page
    # and the download is the PDF, as an attachment named after the file
    response = client.get("/documents/numbers-IT/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="numbers-IT.pdf"'
    assert response.content == (PER_USER / "templates" / "numbers-IT.pdf").read_bytes()


def test_a_porting_order_also_offers_the_porting_form(world: VoiceWorld, client_for: Any) -> None:
    order_id = _order(world, kind="porting")
    page = client_for(world.user).get(f"/voice/number-orders/{order_id}/").content.decode()
    assert "/documents/porting-form/download/" in page
    assert "/documents/numbers-IT/download/" in page


def test_the_hwaas_agreement_template_is_on_the_agreements_page(world: VoiceWorld, client_for: Any) -> None:
    page = client_for(world.user).get("/hwaas/agreements/").content.decode()
    assert "/documents/hwaas-agreement/download/" in page


def test_a_vendor_admin_replaces_a_template_and_partners_get_the_new_version(
    world: VoiceWorld, client_for: Any
) -> None:
    staff: Client = client_for(world.staff)
    # when the vendor admin uploads a replacement from the staff page
    response = staff.post(
        "/staff/documents/numbers-IT/",
        {"file": SimpleUploadedFile("Dichiarazione IT 2027.pdf", NEW_PDF, content_type="application/pdf")},
    )
    assert response.status_code == 302
    # then partners download the new version ...
    download = client_for(world.user).get("/documents/numbers-IT/download/")
    assert download.content == NEW_PDF
    assert download["Content-Disposition"] == 'attachment; filename="Dichiarazione IT 2027.pdf"'
    # ... the old one is kept, and the replacement is audited
    versions = list(
        DocumentTemplateVersion.objects.filter(template__code="numbers-IT").values_list("version", "source")
    )
    assert versions == [(2, "upload"), (1, "catalog")]
    old = staff.get("/staff/documents/numbers-IT/versions/1/")
    assert old.content == (PER_USER / "templates" / "numbers-IT.pdf").read_bytes()
    event = AuditEvent.objects.get(action="catalog.template_replaced")
    assert (event.actor_id, event.object_id, event.data["version"]) == (world.staff.pk, "numbers-IT", "2")
    # ... and reloading the catalog's file does not undo the vendor's replacement
    doc_templates.template_load(
        code="numbers-IT",
        kind="number_documents",
        country="IT",
        title="Number order declaration (Italy)",
        path=PER_USER / "templates" / "numbers-IT.pdf",
    )
    assert doc_templates.current_version("numbers-IT").version == 2


def test_only_a_vendor_admin_uploads(
    world: VoiceWorld, make_partner: Any, make_user: Any, client_for: Any
) -> None:
    # a sales user of another partner
    sales = make_user(make_partner("other"), role="sales")
    response = client_for(sales).post(
        "/staff/documents/numbers-IT/", {"file": SimpleUploadedFile("x.pdf", NEW_PDF)}
    )
    assert response.status_code == 403
    # the partner's own admin, and an area manager, through the service
    upload = SimpleUploadedFile("x.pdf", NEW_PDF)
    for actor in (world.actor, Actor(user=world.manager)):
        with pytest.raises(Forbidden):
            doc_templates.template_replace(actor=actor, code="numbers-IT", upload=upload)
    assert doc_templates.current_version("numbers-IT").version == 1


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("template.exe", NEW_PDF, "PDF, DOCX or ODT"),
        ("template.pdf", b"MZ\x90\x00 not a pdf", "not a PDF file"),
        ("template.docx", NEW_PDF, "not a DOCX file"),
    ],
)
def test_a_replacement_that_is_not_a_template_file_is_refused_in_words(
    world: VoiceWorld, client_for: Any, name: str, content: bytes, why: str
) -> None:
    staff: Client = client_for(world.staff)
    response = staff.post(
        "/staff/documents/numbers-IT/", {"file": SimpleUploadedFile(name, content)}, follow=True
    )
    assert why in response.content.decode()
    assert doc_templates.current_version("numbers-IT").version == 1


def test_the_catalog_refuses_a_template_whose_file_is_missing_or_not_a_document(
    db: Any, tmp_path: Path
) -> None:
    (tmp_path / "bad.pdf").write_bytes(b"plain text")
    (tmp_path / "catalog.yaml").write_text(
        "templates:\n"
        "- code: missing\n  kind: porting_form\n  title: Missing\n  file: templates/missing.pdf\n"
        "- code: bad\n  kind: porting_form\n  title: Bad\n  file: bad.pdf\n"
        "- code: outside\n  kind: nonsense\n  title: Outside\n  file: ../etc.pdf\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as refused:
        load_catalog(tmp_path)
    text = "\n".join(str(issue) for issue in refused.value.issues)
    assert "'file' 'templates/missing.pdf' is not a file of the catalog directory" in text
    assert "bad.pdf: the content is not a PDF file" in text
    assert "'kind' is 'nonsense'" in text
    assert "'file' '../etc.pdf' is not a file of the catalog directory" in text
    assert not DocumentTemplate.objects.exists()
