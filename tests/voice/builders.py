"""The voice trunk on top of the subscription engine's test world: an exact rate table, the CTA2
bundle, numbers with their requirements, and call-record files.

Rates (EUR per minute): IT fixed 0.012 (CTA1), IT mobile 0.030 (CTA1), UAE 0.090 (CTA2, SMS 0.06),
Australia 0.060 (CTA3, so 0.001 a second). The CTA1 flat fee gives 3000 minutes per counted user.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from pbxportal.catalog.models import DestinationRate, NumberRequirement, Product
from pbxportal.pbx import services
from pbxportal.pbx.models import Pbx
from tests.pbx.builders import World, _product

RATES = (
    ("39", "IT", "fixed", "CTA1", "0.012", "0.05"),
    ("393", "IT", "mobile", "CTA1", "0.030", "0.05"),
    ("971", "AE", "any", "CTA2", "0.090", "0.06"),
    ("61", "AU", "any", "CTA3", "0.060", None),
)
IT_FIXED = "+390612345678"
AE_MOBILE = "+971501234567"
AU_FIXED = "+61212345678"
UNKNOWN = "+81312345678"  # Japan: a possible number, not in the rate table


class VoiceWorld(World):
    def __init__(self) -> None:
        super().__init__()
        cta1 = self.products["voice"]
        cta1.attributes = {**cta1.attributes, "bundle": "CTA1", "allowance_minutes_per_user": 3000}
        cta1.save(update_fields=["attributes"])
        self.cta2 = _product(
            self.book,
            "VOICE-CTA2",
            "voice",
            "flat",
            Decimal("31.20"),
            ("monthly", "yearly", "five_year"),
            min_commitment_months=6,
            attributes={
                "bundle": "CTA2",
                "allowance_minutes": 1000,
                "allowance_sms": 50,
                "requires_did_countries": ["AE", "SA"],
                "min_firmware": "6.0",
            },
        )
        self.did_ae = self._number_product("DID-AE", "AE", "geographic", Decimal("9.00"))
        self.did_it = self._number_product("DID-IT", "IT", "geographic", Decimal("1.50"))
        self.freephone_it = self._number_product("FREEPHONE-IT", "IT", "freephone", Decimal("12.00"))
        for prefix, country, kind, area, rate, sms in RATES:
            DestinationRate.objects.create(
                book=self.book,
                prefix=prefix,
                country=country,
                kind=kind,
                area=area,
                rate_per_minute=Decimal(rate),
                sms_rate=Decimal(sms) if sms else None,
            )

    def _number_product(self, code: str, country: str, number_type: str, monthly: Decimal) -> Product:
        product = _product(
            self.book,
            code,
            "number",
            "per_unit",
            monthly,
            ("monthly", "yearly", "five_year"),
            min_commitment_months=6,
            attributes={"country": country, "number_type": number_type},
        )
        NumberRequirement.objects.create(
            country=country,
            number_type=number_type,
            documents=["Identity document", "Company registration"],
            porting_documents=["Porting form", "Last invoice of the current operator"],
            product=product,
        )
        return product

    def trunk_pbx(self, *, start: date, users: int = 4, name: str | None = None, term: str = "yearly") -> Pbx:
        """An active per-user PBX with ``users`` counted users and the CTA1 flat fee from ``start``."""
        pbx = self.pbx(start=start, licences={"UC-BUSINESS": users}, name=name, term=term)
        services.service_order(actor=self.actor, pbx=pbx, product_code="VOICE-FLAT", today=start)
        return pbx

    def cta2_pbx(self, *, start: date, name: str | None = None) -> Pbx:
        """An active PBX with a UAE DID and the CTA2 bundle (R-VT-5)."""
        pbx = self.pbx(start=start, licences={"UC-BUSINESS": 2}, name=name)
        services.service_order(
            actor=self.actor,
            pbx=pbx,
            product_code="DID-AE",
            today=start,
            attributes={"number": "+97142000000"},
        )
        services.service_order(actor=self.actor, pbx=pbx, product_code="VOICE-CTA2", today=start)
        return pbx


def portal_csv(path: Path, rows: Iterable[tuple[str, str, datetime, str, int, str]]) -> Path:
    """Write the portal's CSV: rows of (call_id, pbx serial, start, callee, billsec, kind)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["call_id", "pbx", "start", "caller", "callee", "billsec", "kind"])
    for call_id, serial, start, callee, billsec, kind in rows:
        writer.writerow([call_id, serial, start.isoformat(), "+390611111111", callee, billsec, kind])
    path.write_text(buffer.getvalue())
    return path
