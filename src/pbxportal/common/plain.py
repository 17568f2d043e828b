"""Refusals in plain words (R-UI-1): a service's message names its field by key ("pi_number:
only with offline payment."); pages show the field in words and the rule id once, apart."""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

from pbxportal.common.errors import ApplicationError

# Field keys whose words are not just the key with spaces (the rest: "new_name" -> "New name").
FIELD_WORDS = {
    "pi_number": gettext_noop("PI number"),
    "vat_number": gettext_noop("VAT number"),
    "did": gettext_noop("DID"),
    "ssh": gettext_noop("SSH"),
    "model_code": gettext_noop("Model"),
    "customer_id": gettext_noop("Customer"),
    "pbx_id": gettext_noop("PBX"),
    "product_code": gettext_noop("Product"),
    "change_date": gettext_noop("Date of the change"),
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
