"""The 10,000-socket figure's own checks (the figure itself runs in ``make bench``, not here)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _budget_with_hard_limit(hard: int, wanted: int) -> str:
    code = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, ({hard} // 2, {hard}))
        from bench.ws_scale import fd_budget
        count, limit, note = fd_budget({wanted})
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        print(count, limit, soft, repr(note))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_a_low_hard_limit_scales_the_figure_down_and_says_so() -> None:
    count, limit, soft, note = _budget_with_hard_limit(4_000, 10_000).split(" ", 3)
    assert (int(count), int(limit), int(soft)) == (3_500, 4_000, 4_000)
    assert "below 10500" in note and "scaled down to 3500 sockets" in note


def test_enough_descriptors_keep_the_figure_and_raise_the_soft_limit() -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard < 2_000:
        pytest.skip("needs a finite hard limit of at least 2,000")
    count, limit, soft, note = _budget_with_hard_limit(hard, 1_000).split(" ", 3)
    assert (int(count), int(limit), int(soft), note) == (1_000, hard, hard, "''")
