"""Call records in: the CDR import (R-VT-2..8), stored by (PBX, month) and rated at once.

``cdr_import`` is moved here verbatim from ``voice/services.py`` (issue 12 rewrites the pipeline in
``voice/pipeline.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from pbxportal.core.rating import (
    Call,
)
from pbxportal.core.rating.cdr import CdrItem
from pbxportal.ops import metrics
from pbxportal.pbx.models import Pbx
from pbxportal.voice import partitions
from pbxportal.voice.models import (
    CallRecord,
)
from pbxportal.voice.rating import (
    month_start,
)
from pbxportal.voice.services.usage import usage_month_rate

IMPORT_CHUNK = 5000
IDENTITY_MAX = 80

# --- Call records: import and rating (R-VT-2..8) -----------------------------------------------


@dataclass
class ImportReport:
    """What an import did: records accepted, duplicates (already there, R-VT-8) and bad lines."""

    accepted: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    months: set[tuple[int, date]] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": [{"line": line, "reason": reason} for line, reason in self.errors],
            "months_rated": len(self.months),
        }


def cdr_import(
    *,
    items: Iterable[CdrItem],
    pbx: Pbx | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store call records and rate the PBX-months they fall in (R-VT-8).

    Every bad line is reported with its number and reason while the good ones are kept. A record
    already stored for its PBX (same identity) is a duplicate and charges nothing again. The
    months touched are re-rated from all their records, so late records keep the pool consumed
    in call start order (R-VT-2).
    """
    report = ImportReport()
    serials: dict[str, Pbx | None] = {pbx.serial: pbx} if pbx else {}
    pending: list[CallRecord] = []
    for line_no, item in items:
        if progress is not None:
            progress(line_no)
        if isinstance(item, str):
            report.errors.append((line_no, item))
            continue
        target = _pbx_of(item, pbx, serials)
        if isinstance(target, str):
            report.errors.append((line_no, target))
            continue
        if len(item.call_id) > IDENTITY_MAX:
            report.errors.append((line_no, f"unique id longer than {IDENTITY_MAX} characters"))
            continue
        pending.append(
            CallRecord(
                pbx=target,
                month=month_start(item.start),
                identity=item.call_id,
                start=item.start,
                caller=item.caller[:80],
                callee=item.callee[:80],
                billsec=item.billsec,
                kind=item.kind,
            )
        )
        if len(pending) >= IMPORT_CHUNK:
            _store(pending, report)
            pending = []
    if pending:
        _store(pending, report)
    for pbx_id, month in sorted(report.months):
        usage_month_rate(pbx_id=pbx_id, month=month)
    return report


def _pbx_of(call: Call, given: Pbx | None, serials: dict[str, Pbx | None]) -> Pbx | str:
    if given is not None and call.pbx != given.serial:
        return f"the record is for PBX {call.pbx!r}, not {given.serial}"
    if call.pbx not in serials:
        serials[call.pbx] = Pbx.objects.select_related("partner").filter(serial=call.pbx).first()
    found = serials[call.pbx]
    return found if found is not None else f"unknown PBX serial {call.pbx!r}"


def _store(records: list[CallRecord], report: ImportReport) -> None:
    unique: dict[tuple[int, date, str], CallRecord] = {}
    for record in records:
        key = (record.pbx_id, record.month, record.identity)
        if key in unique:
            report.duplicates += 1
        else:
            unique[key] = record
    existing: set[tuple[int, date, str]] = set()
    by_pbx: dict[int, list[str]] = defaultdict(list)
    for pbx_id, _, identity in unique:
        by_pbx[pbx_id].append(identity)
    for pbx_id, identities in by_pbx.items():
        existing |= set(
            CallRecord.objects.filter(pbx_id=pbx_id, identity__in=identities).values_list(
                "pbx_id", "month", "identity"
            )
        )
    new = [record for key, record in unique.items() if key not in existing]
    report.duplicates += len(unique) - len(new)
    metrics.RATING_CALLS.labels(outcome="duplicate").inc(len(records) - len(new))
    partitions.ensure_months({record.month for record in new})
    with transaction.atomic():
        # ignore_conflicts: a concurrent import of the same records loses nothing and doubles nothing.
        CallRecord.objects.bulk_create(new, ignore_conflicts=True)
    report.accepted += len(new)
    report.months |= {(record.pbx_id, record.month) for record in new}
