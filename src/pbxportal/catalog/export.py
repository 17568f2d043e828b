"""Price book export as CSV and XLSX (R-CAT-4): one row per priced item."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

from pbxportal.catalog.selectors import EXPORT_COLUMNS, PriceItem


def _row(item: PriceItem) -> list[object]:
    return [getattr(item, c) for c in EXPORT_COLUMNS]


def to_csv(items: Sequence[PriceItem]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for item in items:
        writer.writerow(_row(item))
    return buffer.getvalue().encode("utf-8")


def to_xlsx(items: Sequence[PriceItem], *, title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Prices")
    sheet.append(EXPORT_COLUMNS)
    for item in items:
        # Decimal stays exact: openpyxl writes it as a number cell without a float round trip in the XML text.
        sheet.append(_row(item))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
