"""The operator's guide covers every setting and the README leads to it."""

from __future__ import annotations

from pathlib import Path

from frontdesk.settings import describe

ROOT = Path(__file__).resolve().parents[2]


def test_the_deployment_guide_lists_every_setting() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    rows = {
        row[0]: row[1:]
        for row in (
            [cell.strip() for cell in line.strip("|").split(" | ")]
            for line in guide.splitlines()
            if line.startswith("| `FRONTDESK_")
        )
    }
    missing = [name for name, _, _ in describe() if f"`{name}`" not in rows]
    assert missing == [], "add these to docs/deploy.md's table (from `frontdesk settings`)"
    # Each row says what `frontdesk settings` says: the meaning word for word, and the default
    # when the table shows a value (an empty or computed one is worded instead).
    stale = [
        name
        for name, default, meaning in describe()
        if rows[f"`{name}`"][1] != meaning
        or (rows[f"`{name}`"][0].startswith("`") and rows[f"`{name}`"][0] != f"`{default}`")
    ]
    assert stale == [], "update these rows of docs/deploy.md (from `frontdesk settings`)"


def test_the_readme_links_the_deployment_guide_and_its_files_exist() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text()
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for shipped in ("nginx.conf", "Caddyfile", "frontdesk.service"):
        assert f"(../deploy/{shipped})" in guide
        assert (ROOT / "deploy" / shipped).is_file()
