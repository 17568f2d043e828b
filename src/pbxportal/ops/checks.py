"""Checks shared by ``/healthz`` and ``pbxportal check-config``: database, broker, configuration.

Each probe opens its own short-lived connection with a short timeout, so a hung database or
broker makes the probe fail within seconds instead of holding a web worker, and a server that
comes back is seen at the next probe (no stale persistent connection in the way).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

DEFAULT_TIMEOUT = 2.0
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    kind: str
    detail: str = ""
    error: str = ""
    ms: float = 0.0


def _within(deadline: float | None, probe: Callable[[], None]) -> Callable[[], None]:
    """``probe`` with a hard deadline: a driver may take a multiple of its own timeout (libpq
    retries without SSL, tries every address), and a probe must answer within its budget even
    when the server accepts connections and never replies (issue 13). The abandoned attempt ends
    by itself at the driver's timeout, in a daemon thread."""
    if deadline is None:
        return probe

    def bounded() -> None:
        errors: list[BaseException] = []

        def run() -> None:
            try:
                probe()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True, name="health-probe")
        thread.start()
        thread.join(deadline)
        if thread.is_alive():
            raise TimeoutError(f"no answer within {deadline:g} s")
        if errors:
            raise errors[0]

    return bounded


def _timed(
    name: str, kind: str, detail: str, probe: Callable[[], None], deadline: float | None = None
) -> Check:
    started = time.perf_counter()
    try:
        _within(deadline, probe)()
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Check(
            name,
            False,
            kind,
            detail,
            error=f"{type(exc).__name__}: {first_line}".rstrip(": "),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
    return Check(name, True, kind, detail, ms=round((time.perf_counter() - started) * 1000, 1))


def _database_settings(alias: str, settings_dict: dict[str, Any] | None) -> dict[str, Any]:
    from django.db import connections

    if settings_dict is None:
        base = connections[alias].settings_dict
    else:
        # configure_settings fills in Django's defaults (TIME_ZONE, OPTIONS, ...); it insists on a
        # "default" alias, so the dictionary goes in under that name.
        base = connections.configure_settings({"default": dict(settings_dict)})["default"]
    params = {**base, "OPTIONS": {**base.get("OPTIONS", {})}}
    params["OPTIONS"].pop("pool", None)  # a probe must not build a connection pool of its own
    return params


def check_database(
    alias: str = "default", *, settings_dict: dict[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Check:
    """``SELECT 1`` over a new connection (connect and statement timeouts of ``timeout``)."""
    from django.db.utils import load_backend

    params = _database_settings(alias, settings_dict)
    postgres = "postgresql" in params["ENGINE"]
    if postgres:
        params["OPTIONS"]["connect_timeout"] = max(2, math.ceil(timeout))  # libpq's minimum is 2
    kind = params["ENGINE"].rsplit(".", 1)[-1]
    where = (
        f"{params.get('HOST') or 'localhost'}:{params.get('PORT') or 5432}/{params.get('NAME')}"
        if postgres
        else str(params.get("NAME"))
    )

    def probe() -> None:
        wrapper = load_backend(params["ENGINE"]).DatabaseWrapper(params, alias)
        try:
            with wrapper.cursor() as cursor:
                if postgres:
                    cursor.execute("SET statement_timeout = %s", [int(timeout * 1000)])
                cursor.execute("SELECT 1")
                cursor.fetchone()
        finally:
            wrapper.close()

    return _timed(
        "database" if alias == "default" else f"database:{alias}", kind, where, probe, deadline=timeout
    )


def broker_kind(url: str) -> str:
    return url.split("://", 1)[0] if url else "eager"


def check_broker(url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Check:
    """Redis: PING; another broker (amqp://): a connection through kombu; none: eager."""
    url = settings.CELERY_BROKER_URL if url is None else url
    if not url:
        return Check("broker", True, "eager", "no CELERY_BROKER_URL: tasks run in the calling process")
    from kombu.utils.url import maybe_sanitize_url

    kind = broker_kind(url)
    detail = str(maybe_sanitize_url(url))

    def redis_probe() -> None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()

    def kombu_probe() -> None:
        from kombu import Connection

        with Connection(url, connect_timeout=timeout) as connection:
            connection.connect()

    return _timed("broker", kind, detail, redis_probe if kind in ("redis", "rediss") else kombu_probe)


def health(timeout: float = DEFAULT_TIMEOUT) -> list[Check]:
    """What ``/healthz`` reports: every configured database alias and the broker."""
    checks = [check_database(alias, timeout=timeout) for alias in settings.DATABASES]
    checks.append(check_broker(timeout=timeout))
    return checks


@dataclass(frozen=True)
class Finding:
    level: str  # OK, WARN or FAIL
    subject: str
    message: str


def configuration_findings(timeout: float = DEFAULT_TIMEOUT) -> Iterator[Finding]:
    """Everything ``check-config`` prints, in order. FAIL refuses a production start."""
    production = settings.PRODUCTION
    yield Finding("OK", "environment", f"PBXPORTAL_ENV={settings.ENV}")

    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        # Only reachable outside production: settings refuse it at import in production.
        yield Finding("WARN", "SECRET_KEY", "the development default (refused with PBXPORTAL_ENV=production)")
    elif production and len(settings.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        yield Finding(
            "FAIL",
            "SECRET_KEY",
            f"{len(settings.SECRET_KEY)} characters; use at least {MIN_SECRET_KEY_LENGTH} random ones",
        )
    else:
        yield Finding("OK", "SECRET_KEY", "set, not the development default")

    if production and settings.DEBUG:
        yield Finding("FAIL", "DEBUG", "DEBUG=1 in production exposes tracebacks and settings; unset it")
    else:
        yield Finding("OK" if not settings.DEBUG else "WARN", "DEBUG", "on" if settings.DEBUG else "off")

    if production and (not settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS):
        yield Finding("WARN", "ALLOWED_HOSTS", f"{settings.ALLOWED_HOSTS!r}: name the portal's host names")
    else:
        yield Finding("OK", "ALLOWED_HOSTS", ",".join(settings.ALLOWED_HOSTS))

    if production and not settings.METRICS_TOKEN:
        yield Finding("FAIL", "METRICS_TOKEN", "required in production: /metrics is refused without it")
    else:
        yield Finding("OK", "METRICS_TOKEN", "set" if settings.METRICS_TOKEN else "not set: /metrics is open")

    for alias in settings.DATABASES:
        db = check_database(alias, timeout=timeout)
        if production and db.kind == "sqlite3":
            yield Finding("FAIL", db.name, "SQLite is the embedded default; production needs PostgreSQL")
        if db.ok:
            yield Finding("OK", db.name, f"{db.kind} {db.detail} answered in {db.ms} ms")
        else:
            yield Finding("FAIL", db.name, f"{db.kind} {db.detail} unreachable: {db.error}")

    broker = check_broker(timeout=timeout)
    if broker.kind == "eager":
        level = "FAIL" if production else "OK"
        yield Finding(level, "broker", broker.detail)
    elif broker.ok:
        yield Finding("OK", "broker", f"{broker.detail} answered in {broker.ms} ms")
    else:
        yield Finding("FAIL", "broker", f"{broker.detail} unreachable: {broker.error}")
