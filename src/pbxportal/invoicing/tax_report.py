"""The vendor's tax report per period (R-INV-1): every invoice and credit note issued in a
half-open period [first, end), one row per document and VAT rate, with totals per category and
rate; as CSV and XLSX for the accountant. Amounts are the documents' rounded figures (R-CAT-6)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pbxportal.invoicing.models import Invoice

HEADER = [
    "number", "kind", "issued_on", "partner", "buyer_country", "buyer_vat_number",
    "category", "rate", "net", "tax", "currency",
]  # fmt: skip


@dataclass(frozen=True)
class TaxReportRow:
    number: str
    kind: str
    issued_on: date
    partner: str
    buyer_country: str
    buyer_vat_number: str
    category: str
    rate: Decimal
    net: Decimal
    tax: Decimal
    currency: str

    def cells(self) -> list[object]:
        return [
            self.number, self.kind, self.issued_on, self.partner, self.buyer_country,
            self.buyer_vat_number, self.category, self.rate, self.net, self.tax, self.currency,
        ]  # fmt: skip


def tax_report(*, first: date, end: date) -> list[TaxReportRow]:
    """Rows of the documents issued on ``first`` <= day < ``end``, by number."""
    documents = (
        Invoice.objects.filter(number__isnull=False, issued_on__gte=first, issued_on__lt=end)
        .select_related("partner")
        .prefetch_related("lines")
        .order_by("kind", "year", "sequence")
    )
    rows = []
    for document in documents:
        for total in document.tax_breakdown():
            rows.append(
                TaxReportRow(
                    number=document.number or "",
                    kind=document.kind,
                    issued_on=document.issued_on,  # type: ignore[arg-type]
                    partner=document.partner.name,
                    buyer_country=str(document.buyer.get("country", "")),
                    buyer_vat_number=str(document.buyer.get("vat_number", "")),
                    category=total.category,
                    rate=Decimal(f"{total.rate.normalize():f}"),
                    net=total.net.quantize(Decimal("0.01")),
                    tax=total.tax.quantize(Decimal("0.01")),
                    currency=document.currency,
                )
            )
    return rows


def totals(rows: list[TaxReportRow]) -> dict[tuple[str, str, Decimal], tuple[Decimal, Decimal]]:
    """Net and tax per (currency, category, rate) over the period."""
    sums: dict[tuple[str, str, Decimal], tuple[Decimal, Decimal]] = {}
    for row in rows:
        key = (row.currency, row.category, row.rate)
        net, tax = sums.get(key, (Decimal(0), Decimal(0)))
        sums[key] = (net + row.net, tax + row.tax)
    return dict(sorted(sums.items()))


def as_csv(rows: list[TaxReportRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row.cells())
    writer.writerow([])
    writer.writerow(["total", "", "", "", "", "", "category", "rate", "net", "tax", "currency"])
    for (currency, category, rate), (net, tax) in totals(rows).items():
        writer.writerow(["total", "", "", "", "", "", category, rate, net, tax, currency])
    return buffer.getvalue().encode()


def as_xlsx(rows: list[TaxReportRow]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Documents"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row.cells())
    summary = book.create_sheet("Totals")
    summary.append(["currency", "category", "rate", "net", "tax"])
    for (currency, category, rate), (net, tax) in totals(rows).items():
        summary.append([currency, category, rate, net, tax])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
