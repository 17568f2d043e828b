"""Bounded pagination for every API list (R-API-1): ``limit`` 1..MAX_LIMIT, ``offset`` 0..INT_MAX,
so no page request reaches the database with a number it cannot hold."""

from __future__ import annotations

from typing import Any

from ninja import Field
from ninja import Schema as NinjaSchema
from ninja.pagination import LimitOffsetPagination

from pbxportal.common.schemas import INT_MAX

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


class Pagination(LimitOffsetPagination):
    class Input(NinjaSchema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=INT_MAX)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
