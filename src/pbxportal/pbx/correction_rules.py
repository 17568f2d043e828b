"""Rules of applying a correction (R-PBX-10), kept beside pbx.services so they survive its split.

``lock_filed_correction`` re-reads the correction under a row lock inside the applying
transaction: two staff clicks at once both passed the status check read before the transaction,
and the second applied the correction again (issue 13 item 6). Under the lock the second sees the
first's outcome and is refused.
"""

from __future__ import annotations

from pbxportal.common.errors import Conflict
from pbxportal.pbx.models import CorrectionRequest, CorrectionStatus


def lock_filed_correction(correction_id: int) -> CorrectionRequest:
    """The correction, locked for this transaction; a Conflict unless it is still filed."""
    correction = CorrectionRequest.objects.select_for_update().select_related("pbx").get(pk=correction_id)
    if correction.status != CorrectionStatus.FILED:
        raise Conflict(f"The correction is {correction.status} already.")
    return correction
