"""The PBX agent's hot-path reads (R-LIC-3, R-EX-3, R-VT-6): prepared statements, built once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pbxportal.common.db import fetch_one
from pbxportal.licensing.models import PbxCredential
from pbxportal.voice.models import UsageMonth
from pbxportal.voice.selectors import usage_of_row

_POLL_SQL = f"SELECT pbx_id, licence_etag FROM {PbxCredential._meta.db_table} WHERE digest = %s"


def agent_poll_state(*, digest: str) -> tuple[int, str] | None:
    """(PBX id, current licence ETag) of a credential digest, in one indexed query: the poll
    path answers 304 from this alone (R-EX-3 polling, the licence-polls benchmark); a prepared
    statement (``common.db.fetch_one``), as polls are the hottest path of the portal."""
    row = fetch_one(_POLL_SQL, [digest])
    return (int(row[0]), str(row[1])) if row else None


_AGENT_USAGE_SQL = (
    f"SELECT c.pbx_id, u.allowance_used, u.amount FROM {PbxCredential._meta.db_table} c "
    f"LEFT JOIN {UsageMonth._meta.db_table} u ON u.pbx_id = c.pbx_id AND u.month = %s "
    "WHERE c.digest = %s"
)


def agent_authorization_inputs(*, digest: str, month: date) -> tuple[int, tuple[int, Decimal]] | None:
    """For the agent fast path (R-VT-6): the PBX of a credential digest and its ``month_usage``,
    in one prepared query; None for an unknown credential."""
    row = fetch_one(_AGENT_USAGE_SQL, [month, digest])
    return None if row is None else (int(row[0]), usage_of_row(row[1:]))
