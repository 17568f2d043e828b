"""One typed event registry: an app announces that something happened (a PBX changed, an invoice
was issued or paid) and the apps that care connect a handler, without the announcing app
importing them (dependencies keep pointing one way, docs/architecture.md).

Handlers run after the current transaction commits (``transaction.on_commit``): a rolled-back
change triggers nothing (no mail for an invoice that was never issued, no licence re-signed for a
change that did not happen). Outside a transaction they run at once.

    INVOICE_PAID: Hook[Invoice] = Hook("invoice paid")      # declared by the announcing app
    INVOICE_PAID.connect(handler)                           # in the listening app's ready()
    INVOICE_PAID.send(invoice)                              # where it happens
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import transaction

P = TypeVar("P")


class Hook(Generic[P]):
    """An event carrying a payload of type ``P``; handlers run in the order they connected."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[[P], None]] = []

    def connect(self, handler: Callable[[P], None]) -> Callable[[P], None]:
        """Add a handler (usable as a decorator); connecting the same handler twice keeps one."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def disconnect(self, handler: Callable[[P], None]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    @property
    def handlers(self) -> tuple[Callable[[P], None], ...]:
        return tuple(self._handlers)

    def send(self, payload: P) -> None:
        """Run every handler with ``payload`` once the current transaction commits."""
        for handler in self._handlers:
            transaction.on_commit(lambda handler=handler: handler(payload))  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {len(self._handlers)} handler(s))"
