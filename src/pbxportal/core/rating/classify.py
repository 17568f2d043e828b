"""Which call records are rated: direction and call classification (R-VT-8, issue 12).

Only outbound calls to external destinations are rated. Every other answered record is
counted and skipped with its reason, never turned into a destination:

- ``inbound``: a call that came in from the trunk;
- ``internal``: extension to extension (both ends inside the PBX);
- ``feature``: a feature code (the dialled string holds ``*`` or ``#``).

The rules are data (``ClassifyRules``) with defaults per format (``DEFAULT_RULES``); a PBX may
carry its own (``Pbx`` attribute ``cdr_rules``, a dict of the same fields). Pure Python, no
Django. The defaults and why they are so: docs/usage-pipeline.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "DEFAULT_RULES",
    "FEATURE",
    "INBOUND",
    "INTERNAL",
    "ClassifyRules",
    "classify",
    "rules_for",
]

Skip = Literal["inbound", "internal", "feature"]
INBOUND: Skip = "inbound"
INTERNAL: Skip = "internal"
FEATURE: Skip = "feature"


@dataclass(frozen=True)
class ClassifyRules:
    """Patterns (Python regular expressions, matched from the start) of one format.

    ``inbound_contexts``: destination contexts (Asterisk ``dcontext``, FreeSWITCH ``context``)
    of calls that came in; ``trunk_channels``: channel names of the trunk (Asterisk
    ``channel``/``dstchannel``): a call whose source channel is the trunk came in;
    ``internal_digits``: the longest number that is an extension (shorter or equal dialled
    strings of digits only, from an extension, are internal); ``feature_chars``: characters
    that make the dialled string a feature code.
    """

    inbound_contexts: tuple[str, ...] = ()
    internal_contexts: tuple[str, ...] = ()
    trunk_channels: tuple[str, ...] = ()
    extension_channels: tuple[str, ...] = ()
    internal_digits: int = 6
    feature_chars: str = "*#"
    _compiled: dict[str, re.Pattern[str] | None] = field(default_factory=dict, compare=False, repr=False)

    def _pattern(self, name: str) -> re.Pattern[str] | None:
        if name not in self._compiled:
            patterns: tuple[str, ...] = getattr(self, name)
            self._compiled[name] = (
                re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None
            )
        return self._compiled[name]

    def matches(self, name: str, value: str) -> bool:
        pattern = self._pattern(name)
        return bool(value) and pattern is not None and pattern.match(value) is not None


DEFAULT_RULES: dict[str, ClassifyRules] = {
    # Asterisk: calls from the trunk land in an inbound context ("from-trunk", "from-pstn",
    # "from-external", "incoming", FreePBX "from-did-direct"...); a source channel of a trunk
    # technology/peer naming the trunk; extensions dial each other in "from-internal"/"default"
    # with short numbers and a destination channel that is a phone (SIP/PJSIP/IAX2/DAHDI
    # peer named by the extension number).
    "asterisk": ClassifyRules(
        inbound_contexts=(
            r"from-(trunk|pstn|external|did|provider|sip-external|zaptel|dahdi)",
            r".*(pstn|incoming|inbound)",
            r"ext-did",
        ),
        internal_contexts=(r"ext-local", r"from-internal-xfer", r"ext-group", r"ext-queues"),
        trunk_channels=(r"(SIP|PJSIP|IAX2)/(trunk|provider|pstn|gw|gateway|voip|sipgate|itsp)",),
        extension_channels=(r"(SIP|PJSIP|IAX2|DAHDI|Local)/[0-9]{2,6}(-|@|$)",),
    ),
    # FreeSWITCH: the leg's ``direction`` when the template writes it ("inbound" is the leg that
    # came into FreeSWITCH: from a phone OR from the trunk, so the context decides): the
    # "public" context takes calls from the gateways; "default" is the extensions' context.
    "freeswitch": ClassifyRules(
        inbound_contexts=(r"public", r"from-(trunk|pstn|external|gateway)", r"inbound"),
    ),
    # Portal CSV: the ``direction`` column (outbound, inbound, internal); without it, feature
    # codes and short internal numbers only.
    "csv": ClassifyRules(),
}


def rules_for(cdr_format: str, overrides: Mapping[str, Any] | None = None) -> ClassifyRules:
    """The format's default rules, with a PBX's overrides (field name → value) applied."""
    base = DEFAULT_RULES.get(cdr_format, ClassifyRules())
    if not overrides:
        return base
    known = {name: value for name, value in overrides.items() if name in ClassifyRules.__dataclass_fields__}
    for name, value in list(known.items()):
        if isinstance(value, list):
            known[name] = tuple(value)
    return replace(base, **known, _compiled={})


def _is_feature(dialled: str, rules: ClassifyRules) -> bool:
    return any(char in dialled for char in rules.feature_chars)


def _is_extension_number(number: str, rules: ClassifyRules) -> bool:
    return number.isdigit() and 0 < len(number) <= rules.internal_digits


def classify(record: Mapping[str, str], cdr_format: str, rules: ClassifyRules) -> tuple[Skip, str] | None:
    """``None`` when the record is an outbound call to rate, else (skip kind, reason).

    ``record`` holds the file's fields by name (Asterisk cdr_csv names, FreeSWITCH template
    names, portal CSV names), with ``direction`` when the file has it.
    """
    if cdr_format == "asterisk":
        dialled = record.get("dst", "")
        context = record.get("dcontext", "")
        channel = record.get("channel", "")
        dstchannel = record.get("dstchannel", "")
        if rules.matches("inbound_contexts", context):
            return INBOUND, f"inbound call (dcontext {context!r})"
        if rules.matches("trunk_channels", channel):
            return INBOUND, f"inbound call (from trunk channel {channel.split('-')[0]!r})"
        if _is_feature(dialled, rules):
            return FEATURE, f"feature code {dialled!r}"
        if rules.matches("internal_contexts", context):
            return INTERNAL, f"internal call (dcontext {context!r})"
        if rules.matches("extension_channels", dstchannel) and not rules.matches(
            "trunk_channels", dstchannel
        ):
            return INTERNAL, f"internal call to extension channel {dstchannel.split('-')[0]!r}"
        if _is_extension_number(dialled, rules) and not rules.matches("trunk_channels", dstchannel):
            return INTERNAL, f"internal call to extension {dialled!r}"
        return None
    if cdr_format == "freeswitch":
        dialled = record.get("destination_number", "")
        context = record.get("context", "")
        direction = record.get("direction", "").lower()
        if rules.matches("inbound_contexts", context):
            return INBOUND, f"inbound call (context {context!r})"
        if direction == "outbound" and not context:
            # An outbound leg without a context is the B-leg FreeSWITCH created: its A-leg bills.
            return INTERNAL, "B-leg of a bridged call (direction outbound)"
        if _is_feature(dialled, rules):
            return FEATURE, f"feature code {dialled!r}"
        if _is_extension_number(dialled, rules):
            return INTERNAL, f"internal call to extension {dialled!r}"
        return None
    # Portal CSV
    dialled = record.get("callee", "")
    direction = record.get("direction", "").strip().lower()
    if direction == "inbound":
        return INBOUND, "inbound call (direction inbound)"
    if direction == "internal":
        return INTERNAL, "internal call (direction internal)"
    if record.get("kind", "voice") != "sms" and _is_feature(dialled, rules):
        return FEATURE, f"feature code {dialled!r}"
    return None
