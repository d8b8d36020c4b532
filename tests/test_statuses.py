"""Request status codes: one enum on the server, served to the dashboard and widget scripts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from frontdesk.app import create_app
from frontdesk.statuses import RequestStatus
from tests.conftest import IN_CI, make_settings

SRC = Path(__file__).resolve().parents[1] / "src" / "frontdesk"
SCRIPTS = sorted(
    [*(SRC / "dashboard" / "static").rglob("*.js"), *(SRC / "widget" / "static").rglob("*.js")]
)
STATUS_MODULES = ("/dashboard/static/js/status.js", "/widget/lib/status.js")
# A status code written into a script: compared with, used as a query value, or a table key.
_CODE = r"(?:50|100|150|200|300|1000)\b"
_LITERAL = re.compile(
    rf"status\s*[!=]==?\s*{_CODE}|status:\s*\"{_CODE}\"|\b{_CODE}\s*:\s*\"[A-Z]"
    rf"|(?:CLOSED|UNASSIGNED|ASSIGNED)\s*=\s*{_CODE}"
)


def test_codes_are_tiledesk_codes() -> None:
    assert {s.name: s.value for s in RequestStatus} == {
        "TEMPORARY": 50,
        "UNASSIGNED": 100,
        "ABANDONED": 150,
        "ASSIGNED": 200,
        "SERVED": 300,
        "CLOSED": 1000,
    }


@pytest.fixture
def app_client(tmp_path: Path) -> TestClient:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}")
    return TestClient(create_app(settings))


@pytest.mark.parametrize("path", STATUS_MODULES)
def test_the_scripts_get_the_codes_from_the_enum(app_client: TestClient, path: str) -> None:
    with app_client:
        response = app_client.get(path, headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    # The widget's modules are imported cross-origin by host pages.
    assert response.headers["access-control-allow-origin"] == "*"
    codes = dict(re.findall(r"(\w+): (\d+)", response.text.split("STATUS_LABELS")[0]))
    assert codes == {s.name: str(s.value) for s in RequestStatus}


def test_the_module_runs_in_javascript(app_client: TestClient, tmp_path: Path) -> None:
    if shutil.which("node") is None:  # as for the Node client tests: CI has it
        if IN_CI:
            pytest.fail("node is missing (CI=true: the Node tests must run)")
        pytest.skip("needs Node.js")
    with app_client:
        source = app_client.get(STATUS_MODULES[0]).text
    module = tmp_path / "status.mjs"
    module.write_text(
        source
        + "console.log(JSON.stringify([RequestStatus.CLOSED, STATUS_LABELS[100],"
        " statusClass(200), statusClass(7)]));\n"
    )
    out = subprocess.run(["node", str(module)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[1000,"Unassigned","status status-assigned","status"]'


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(SRC)))
def test_no_script_keeps_its_own_status_codes(script: Path) -> None:
    found = _LITERAL.findall(script.read_text())
    assert found == [], f"{script.name} writes status codes itself: {found}"
