from __future__ import annotations

import pytest

from pbxportal.voice import rating, services


@pytest.fixture(autouse=True)
def _fresh_voice_caches() -> None:
    """The voice process caches the agent's authorisations use (rate tables, PBX states) hold ids of other tests' rows."""
    rating._tables.clear()
    services._states.clear()
