"""The usage pipeline: call records from a file or an API batch to rated records, at carrier
volume, durable, incremental and crash-safe (R-VT-2..8, R-INV-2; docs/usage-pipeline.md).

An import is an ``ImportJob``, read and stored chunk by chunk (memory bounded by a chunk):

1. **reading** — plain portal CSV lines are read in bulk with pyarrow and checked vectorised
   (``bulk``); every other line (Asterisk, FreeSWITCH, quoted or odd lines, any line the bulk
   checks refuse) goes through the line reader (``reader.Reader``), which gives the precise
   reason of a bad line. Each line is a record to rate, a record counted and skipped (not
   answered, inbound, internal, feature code: ``core.rating.classify``) or a bad line (an
   ``ImportProblem`` with its number and reason).
2. **storing and rating** (``store.store_rated``) — per PBX-month of the chunk, in ONE
   transaction holding the month's ``UsageMonth`` lock: the records already stored are found
   (duplicates, R-VT-8) and left out; when the rest all start after the month's
   ``rated_through`` (the usual case: files come in time order), they are rated in memory from
   the month's state (allowance and SMS used, totals; ``rate_batch(initial=…)``) and stored
   rated by one ``COPY`` (SQLite: ``executemany``), with the new state and the job's counts.
   Otherwise (a late record, or unrated records a killed import left) they are stored unrated
   and the month is rated afterwards by ``rate.month_rate``: from the late record's start,
   in chunks, ratings written back by ``COPY`` into staging and one ``UPDATE … FROM``.

Because records commit with their state, a killed import leaves either nothing of a chunk,
or unrated records: re-running the import resumes its job (same file, same PBX), and the
billing clock rates such a month before its usage invoice (R-INV-2).
"""

from pbxportal.voice.pipeline.common import CHUNK_LINES, IDENTITY_MAX, KILL_ENV, RATE_CHUNK
from pbxportal.voice.pipeline.jobs import (
    ImportResult,
    finish_pending,
    import_file,
    import_records,
    job_for_file,
)
from pbxportal.voice.pipeline.rate import (
    MonthRated,
    first_unrated,
    month_pending,
    month_rate,
    pending_months,
)
from pbxportal.voice.pipeline.reader import (
    Chunk,
    Reader,
    file_sha256,
    numbered_lines,
    portal_record_problem,
)
from pbxportal.voice.pipeline.store import _Pbxs, store_chunk

__all__ = [
    "CHUNK_LINES",
    "IDENTITY_MAX",
    "KILL_ENV",
    "RATE_CHUNK",
    "Chunk",
    "ImportResult",
    "MonthRated",
    "Reader",
    "_Pbxs",
    "file_sha256",
    "finish_pending",
    "first_unrated",
    "import_file",
    "import_records",
    "job_for_file",
    "month_pending",
    "month_rate",
    "numbered_lines",
    "pending_months",
    "portal_record_problem",
    "store_chunk",
]
