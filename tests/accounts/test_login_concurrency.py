"""30 concurrent wrong passwords for one username: at most the configured number are evaluated
(allauth's login_failed rate limit per username, a slot taken under a cache lock before the
password is checked), the rest are throttled. Real PostgreSQL, one connection per thread, and the
shared caches the deployment uses (the database cache table and Redis)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from allauth.core.internal.ratelimit import parse_rates
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.test import Client

from pbxportal.accounts.models import Partner, User

REDIS_URL = "redis://127.0.0.1:6379/15"
CACHES = {
    "database": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "pbxportal_cache"},
    "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
}


@pytest.mark.postgres
@pytest.mark.parametrize("cache_kind", ["database", "redis"])
def test_30_concurrent_wrong_passwords_evaluate_at_most_the_limit(
    transactional_db: Any,
    settings: Any,
    make_user: Callable[..., User],
    make_partner: Callable[..., Partner],
    cache_kind: str,
) -> None:
    # given one partner user, a shared cache, and a counter of passwords actually checked
    settings.CACHES = {"default": CACHES[cache_kind]}
    from django.core.cache import cache

    cache.clear()
    user = make_user(make_partner())
    key_rate = next(r for r in parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed"]) if r.per == "key")
    evaluated: list[str] = []
    lock = threading.Lock()

    def count(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
        with lock:
            evaluated.append(credentials.get("username", ""))

    user_login_failed.connect(count)
    statuses: list[int] = []
    start = threading.Barrier(30)

    def attempt(i: int) -> None:
        try:
            # each from its own address, so only the per-username limit can stop them
            client = Client(REMOTE_ADDR=f"198.51.100.{i + 1}")
            start.wait()
            response = client.post("/login/", {"login": user.username, "password": f"wrong-guess-{i}"})
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    # when 30 wrong passwords arrive at the same moment, each thread with its own connection
    try:
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        user_login_failed.disconnect(count)
        cache.clear()

    # then at most the configured number were checked against the password, the rest throttled
    print(f"{cache_kind} cache: {len(evaluated)} of 30 evaluated, {statuses.count(429)} throttled")
    assert connection.vendor == "postgresql"
    assert len(statuses) == 30
    assert 1 <= len(evaluated) <= key_rate.amount, evaluated
    assert statuses.count(401) == len(evaluated)
    assert statuses.count(429) == 30 - len(evaluated)
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == settings.LOGIN_FAILED_RATE_LIMIT
