from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pbx.builders import World


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded agreements go to a fresh directory per test, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world(db: Any) -> World:
    return World()
