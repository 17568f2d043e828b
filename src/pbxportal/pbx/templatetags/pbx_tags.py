"""``{% customer_pbxs customer %}``: the PBXs section of the customer page (accounts' template
names it, so the accounts app needs no import of the PBX app)."""

from __future__ import annotations

from typing import Any

from django import template

from pbxportal.common.actor import Actor
from pbxportal.pbx.selectors import pbx_list

register = template.Library()


@register.inclusion_tag("pbx/_customer_pbxs.html", takes_context=True)
def customer_pbxs(context: dict[str, Any], customer: Any) -> dict[str, Any]:
    actor = Actor(user=context["request"].user)
    return {"customer": customer, "pbxs": pbx_list(actor=actor, customer_id=customer.pk)}
