"""Catalog keys in words for the pages (R-UI-1): ``{{ pbx.term|term_words }}`` shows "Five years",
not "five_year"; ``{{ product.family|family_words }}`` likewise."""

from __future__ import annotations

from django import template

from pbxportal.catalog.models import Family, PlanTerm

register = template.Library()

_TERMS = dict(PlanTerm.choices)
_FAMILIES = dict(Family.choices)


@register.filter
def term_words(key: object) -> str:
    return str(_TERMS.get(str(key), str(key).replace("_", " ").capitalize()))


@register.filter
def family_words(key: object) -> str:
    return str(_FAMILIES.get(str(key), str(key).replace("_", " ").capitalize()))
