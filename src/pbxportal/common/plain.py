"""Refusals in plain words (R-UI-1): a service's message names its field by key ("pi_number:
only with offline payment."); pages show the field in words and the rule id once, apart."""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from pbxportal.common.errors import ApplicationError

# Field keys whose words are not just the key with spaces (the rest: "new_name" -> "New name").
FIELD_WORDS = {
    "pi_number": N_("PI number"),
    "vat_number": N_("VAT number"),
    "did": N_("DID"),
    "ssh": N_("SSH"),
    "model_code": N_("Model"),
    "customer_id": N_("Customer"),
    "pbx_id": N_("PBX"),
    "product_code": N_("Product"),
    "change_date": N_("Date of the change"),
}


def field_words(key: str) -> str:
    return gettext(FIELD_WORDS.get(key, key.replace("_", " ").strip().capitalize()))


def _without_rule(text: str, rule: str | None) -> str:
    if not rule:
        return text
    return re.sub(rf"\s*\(?{re.escape(rule)}\)?\.?", "", text).strip()


def plain_message(exc: ApplicationError, *, keep_field: bool = True) -> str:
    """The message without a leading ``field_key:`` (replaced by the field in words, unless the
    page shows the message at the field) and without the rule id (shown apart)."""
    # A refusal whose words the translation has (locale/*/django.po) is shown in the page's
    # language; the services and the API keep their English message (docs/ui.md "Languages").
    text = _without_rule(exc.message, exc.rule)
    for key in exc.fields:
        prefix = f"{key}:"
        if text.lower().startswith(prefix.lower()):
            rest = text[len(prefix) :].strip()
            rest = gettext(rest[:1].upper() + rest[1:])
            text = f"{field_words(key)}: {rest}" if keep_field else rest
            break
    if text and text[-1] not in ".!?":
        text += "."
    return gettext(text)
