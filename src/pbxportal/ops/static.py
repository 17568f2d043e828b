"""Collect static files only when they changed: ``python -m pbxportal.ops.static``.

Production serves hashed, compressed copies from STATIC_ROOT (WhiteNoise). Compressing the API
docs bundles takes tens of seconds, so prod-start runs this instead of collectstatic: it
fingerprints the source files (names and contents, not modification times, which an install may
not change) and collects again only when the fingerprint differs from the last collection's.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

FINGERPRINT_FILE = ".pbxportal-static-fingerprint"


def source_fingerprint() -> str:
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            digest.update(path.encode() + b"\0")
            with storage.open(path) as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def collect_if_changed(*, force: bool = False) -> bool:
    """Run collectstatic when the sources changed since the last run; True when it ran."""
    from django.conf import settings
    from django.core.management import call_command

    marker = Path(settings.STATIC_ROOT) / FINGERPRINT_FILE
    fingerprint = source_fingerprint()
    if not force and marker.exists() and marker.read_text().strip() == fingerprint:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    marker.write_text(fingerprint + "\n")
    return True


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbxportal.config.settings")
    import django

    django.setup()
    ran = collect_if_changed(force="--force" in sys.argv[1:])
    print("collectstatic: collected" if ran else "collectstatic: static files unchanged, skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
