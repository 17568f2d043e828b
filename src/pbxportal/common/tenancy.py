"""The tenancy layer (R-TEN-1): the one place through which every read of partner data goes.

A model that holds partner data declares ``tenant_path``: the lookup from it to its Partner
("partner", "customer__partner", or "self" for Partner itself). Selectors call ``scoped`` or
``get_scoped``; nothing else filters by partner by hand. A partner sees its own rows, an area
manager the rows of the partners assigned to them, vendor admins and customer care all rows.
Another partner's id answers ``NotFound`` (404), exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from pbxportal.common.actor import Actor
from pbxportal.common.errors import NotFound

M = TypeVar("M", bound=models.Model)


def tenant_path(model: type[models.Model]) -> str:
    path = getattr(model, "tenant_path", None)
    if not path:
        raise TypeError(f"{model.__name__} has no tenant_path: it cannot be read through the tenancy layer")
    return str(path)


def tenant_models() -> list[type[models.Model]]:
    """Every model that holds partner data (used by the tenancy test to try other partners' ids)."""
    return [m for m in apps.get_models() if getattr(m, "tenant_path", None)]


def _partner_lookup(model: type[models.Model], field: str) -> str:
    """A lookup of a field of the owning Partner, e.g. ``customer__partner__id``."""
    path = tenant_path(model)
    return field if path == "self" else f"{path}__{field}"


def scoped(source: type[M] | models.QuerySet[M], actor: Actor) -> models.QuerySet[M]:
    """The rows of ``source`` the actor may read."""
    qs: models.QuerySet[M] = source if isinstance(source, models.QuerySet) else source._default_manager.all()
    model = qs.model
    if actor.is_partner:
        return qs.filter(**{_partner_lookup(model, "id"): actor.partner_id})
    if actor.is_staff:
        if actor.staff_role == "area_manager":
            return qs.filter(**{_partner_lookup(model, "area_manager_id"): actor.user.pk})
        return qs
    return qs.none()


def get_scoped(source: type[M] | models.QuerySet[M], actor: Actor, **lookup: Any) -> M:
    """One row the actor may read, or NotFound; never reveals that another partner's row exists."""
    qs = scoped(source, actor)
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound(f"{str(qs.model._meta.verbose_name).capitalize()} not found.") from None


def partner_id_of(obj: models.Model) -> int:
    """The partner an object belongs to, following its tenant_path."""
    path = tenant_path(type(obj))
    if path == "self":
        return int(obj.pk)
    target: Any = obj
    for part in path.split("__"):
        target = getattr(target, part)
    return int(target.pk)
