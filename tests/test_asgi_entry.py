"""The serving entry point (``frontdesk.asgi:app``, what ``frontdesk serve`` runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from frontdesk.asgi import YOUNG_COLLECTION_THRESHOLD

PROBE = """
import gc
from frontdesk.asgi import app
before = gc.get_freeze_count()
served = app()
print(before, gc.get_freeze_count(), type(served).__name__, gc.get_threshold()[0])
"""


def test_the_served_app_freezes_what_it_made_to_start_and_collects_less_often(
    tmp_path: Path,
) -> None:
    """The objects made to serve (modules, models, routes) are left out of the collector's
    full passes, which a server holding thousands of sockets makes while they open. Run in a
    process of its own: frozen objects are never collected, and this one's tests make many
    apps. Its youngest generation is collected less often than by default."""
    env = {**os.environ, "FRONTDESK_DATA_DIR": str(tmp_path / "data"),
           "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    before, after, kind, young = done.stdout.split()
    assert int(before) == 0
    assert int(after) > 10_000  # the modules' and models' objects, not a handful
    assert kind == "_App"  # frontdesk.app's Starlette application
    assert int(young) == YOUNG_COLLECTION_THRESHOLD != 700  # not CPython's default
