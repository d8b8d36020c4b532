"""``make run`` installs what serving needs, not the test tools; ``make test`` sets up nginx."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _planned(target: str, venv: Path) -> str:
    """The commands ``make target`` would run on a machine without a virtualenv yet."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, text=True, capture_output=True,
        check=True,
    )
    return done.stdout


def test_make_run_installs_the_package_without_the_test_tools(tmp_path: Path) -> None:
    planned = _planned("run", tmp_path / "venv")
    installs = [line for line in planned.splitlines() if "pip install" in line]
    # The package itself, with at most the extras the settings ask for (none here).
    assert any(line.rstrip().endswith(("-e .", "-e '.'")) for line in installs), planned
    assert not any("[dev]" in line for line in installs), planned
    assert "frontdesk serve" in planned
    # Uploads are recognised with libmagic: installed where it is missing.
    assert "grep -q 'libmagic\\.so\\.1' ||" in planned
    assert "apt-get install -y -q libmagic1" in planned


def test_make_test_installs_the_test_tools_and_nginx(tmp_path: Path) -> None:
    planned = _planned("test", tmp_path / "venv")
    assert "-e '.[dev]'" in planned
    # Installed only where it is missing.
    assert "test -x /usr/sbin/nginx ||" in planned and "apt-get install -y -q nginx" in planned
