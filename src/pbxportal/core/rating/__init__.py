"""Call rating of the voice trunk (CLASSOUND): numbers, tariffs, allowances, records (R-VT-2..8).

Pure Python (no Django): ``numbers`` (E.164), ``tariff`` (longest prefix), ``allowance``
(monthly pool and CTA2 bundle), ``rate`` (the per-call reference), ``vectorised`` (the same
rating over columns), ``cdr`` (Asterisk, FreeSWITCH and portal readers); its benchmark is ``pbxportal.bench.rating``.
"""

from pbxportal.core.rating.allowance import AllowancePool, Cta2Bundle
from pbxportal.core.rating.cdr import (
    ArrowCdrs,
    call_identity,
    read_asterisk_master,
    read_asterisk_master_arrow,
    read_cdr_file,
    read_freeswitch_csv,
    read_portal_csv,
)
from pbxportal.core.rating.numbers import InvalidNumber, normalise
from pbxportal.core.rating.rate import (
    AllowanceUsage,
    Call,
    PbxRatingContext,
    RatedCall,
    RatingRun,
    RatingTerms,
    UsageLine,
    rate_calls,
    summarise,
)
from pbxportal.core.rating.tariff import RateTable, TariffRow, UnknownDestination
from pbxportal.core.rating.vectorised import RatedBatch, calls_to_batch, rate_batch

__all__ = [
    "AllowancePool",
    "AllowanceUsage",
    "ArrowCdrs",
    "Call",
    "Cta2Bundle",
    "InvalidNumber",
    "PbxRatingContext",
    "RateTable",
    "RatedBatch",
    "RatedCall",
    "RatingRun",
    "RatingTerms",
    "TariffRow",
    "UnknownDestination",
    "UsageLine",
    "call_identity",
    "calls_to_batch",
    "normalise",
    "rate_batch",
    "rate_calls",
    "read_asterisk_master",
    "read_asterisk_master_arrow",
    "read_cdr_file",
    "read_freeswitch_csv",
    "read_portal_csv",
    "summarise",
]
