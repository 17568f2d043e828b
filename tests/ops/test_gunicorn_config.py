"""The web process's gunicorn settings (``pbxportal.ops.gunicorn``)."""

from __future__ import annotations

import gc
import importlib

import pytest


def test_a_worker_freezes_what_it_loaded_out_of_the_garbage_collectors_reach() -> None:
    # given the settings module and a process with objects allocated at start-up
    from pbxportal.ops import gunicorn

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    # when gunicorn calls the hook after loading the app in a worker
    try:
        gunicorn.post_worker_init(object())
        # then those objects are frozen (full collections no longer walk them)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "sync"), ({"WEB_THREADS": "4"}, "gthread"), ({"WEB_WORKER_CLASS": "gthread"}, "gthread")],
)
def test_the_worker_class_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: str
) -> None:
    for name in ("WEB_THREADS", "WEB_WORKER_CLASS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    from pbxportal.ops import gunicorn

    assert importlib.reload(gunicorn).worker_class == expected
