"""Downloadable templates as catalog data (issue 16 item 8): the country documents of number
orders, the porting form and the HWaaS agreement.

A catalog declares them in ``catalog.yaml`` (``templates``: code, kind, country, title, file) with
the files beside it; loading the catalog stores each file as version 1 (and a changed catalog
file as the next version, unless a vendor admin has replaced it since: a replacement wins).
A vendor admin replaces a template from the Documents page: a new version, the old ones kept,
an audit row. Partners always download the highest version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _

from pbxportal.catalog.models import DocumentTemplate, DocumentTemplateVersion
from pbxportal.common.actor import Actor
from pbxportal.common.audit import audit
from pbxportal.common.errors import ApplicationError, NotFound

ZIP = b"PK\x03\x04"
# Extension -> (content type, first bytes of such a file).
FORMATS: dict[str, tuple[str, bytes]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", ZIP),
}


def max_bytes() -> int:
    return int(getattr(settings, "DOCUMENT_TEMPLATE_MAX_BYTES", 5 * 1024 * 1024))


def file_problem(filename: str, content: bytes) -> str | None:
    """Why a file cannot be a template (its extension, its first bytes, its size), or None."""
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        return _("%(file)s: a template is a PDF, DOCX or ODT file.") % {"file": filename}
    if not content.startswith(FORMATS[suffix][1]):
        return _("%(file)s: the content is not a %(format)s file.") % {
            "file": filename,
            "format": suffix[1:].upper(),
        }
    if len(content) > max_bytes():
        return _("%(file)s: larger than %(kb)d KB.") % {"file": filename, "kb": max_bytes() // 1024}
    return None


def version_add(
    template: DocumentTemplate, *, filename: str, content: bytes, source: str, user_id: int | None = None
) -> DocumentTemplateVersion:
    """The next version of ``template`` (under a row lock on the template, so two replacements
    never take the same number; its own transaction when the caller has none)."""
    with transaction.atomic():
        DocumentTemplate.objects.select_for_update().filter(pk=template.pk).first()
        last = template.versions.aggregate(last=Max("version"))["last"] or 0
        return DocumentTemplateVersion.objects.create(
            template=template,
            version=last + 1,
            filename=Path(filename).name[:200],
            content_type=FORMATS[Path(filename).suffix.lower()][0],
            content=content,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            source=source,
            uploaded_by_id=user_id,
        )


def template_load(*, code: str, kind: str, country: str, title: str, path: Path) -> bool:
    """Upsert a catalog's template; store its file as a new version when it is new or changed and
    the current version came from the catalog. True when a version was added."""
    template, _ = DocumentTemplate.objects.update_or_create(
        code=code, defaults={"kind": kind, "country": country, "title": title}
    )
    content = path.read_bytes()
    current = template.versions.first()
    if current is not None and (
        current.source != "catalog" or current.sha256 == hashlib.sha256(content).hexdigest()
    ):
        return False
    version_add(template, filename=path.name, content=content, source="catalog")
    return True


def template_replace(*, actor: Actor, code: str, upload: UploadedFile) -> DocumentTemplateVersion:
    """A vendor admin replaces a template's file: a new version partners download from now on;
    the previous versions stay (issue 16 item 8)."""
    actor.require_staff("vendor_admin")
    template = template_get(code)
    name = upload.name or "template"
    if (upload.size or 0) > max_bytes():
        raise ApplicationError(
            _("file: %(file)s is larger than %(kb)d KB.") % {"file": name, "kb": max_bytes() // 1024},
            fields={"file": "too large"},
        )
    content = upload.read()
    problem = file_problem(name, content)
    if problem:
        raise ApplicationError(f"file: {problem}", fields={"file": "not a PDF, DOCX or ODT file"})
    with transaction.atomic():
        version = version_add(
            template, filename=name, content=content, source="upload", user_id=actor.user.pk
        )
        audit(
            actor,
            "catalog.template_replaced",
            partner_id=None,
            object_type="document_template",
            object_id=template.code,
            version=version.version,
            filename=version.filename,
            sha256=version.sha256,
        )
    return version


# --- Reads ----------------------------------------------------------------------------------------


def template_get(code: str) -> DocumentTemplate:
    template = DocumentTemplate.objects.filter(code=code).first()
    if template is None:
        raise NotFound(_("Template not found."))
    return template


def current_version(code: str, version: int | None = None) -> DocumentTemplateVersion:
    """The file partners download (the highest version), or a given version."""
    qs = DocumentTemplateVersion.objects.filter(template__code=code)
    if version is not None:
        qs = qs.filter(version=version)
    found = qs.order_by("-version").first()
    if found is None:
        raise NotFound(_("Template not found."))
    return found


@dataclass(frozen=True)
class Listed:
    template: DocumentTemplate
    current: DocumentTemplateVersion | None


def templates_listed(*, kinds: tuple[str, ...] = (), country: str | None = None) -> list[Listed]:
    """Templates with their current version (without the file's bytes); ``country`` keeps the
    templates of that country and those for every country."""
    qs: QuerySet[DocumentTemplate] = DocumentTemplate.objects.all()
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if country is not None:
        qs = qs.filter(country__in=[country, ""])
    templates = list(qs)
    latest: dict[int, DocumentTemplateVersion] = {}
    for v in (
        DocumentTemplateVersion.objects.filter(template__in=templates)
        .defer("content")
        .order_by("template_id", "-version")
    ):
        latest.setdefault(v.template_id, v)
    return [Listed(t, latest.get(t.pk)) for t in templates]


def versions_of(code: str) -> QuerySet[DocumentTemplateVersion]:
    return (
        DocumentTemplateVersion.objects.filter(template__code=code)
        .defer("content")
        .select_related("uploaded_by")
    )
