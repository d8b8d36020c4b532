"""The Tiledesk Node SDK's own mocha suite passes against frontdesk.

``@tiledesk/tiledesk-client`` ships ``test/test.js``, written against Tiledesk's servers. It runs
here unchanged against ``frontdesk serve --demo`` (what ``make run`` starts) on a fresh SQLite
data directory, signed in as the demo agent with the demo project and its secret, which the
suite reads from the environment.

Only the blocks about what frontdesk serves run (mocha ``--grep``): TiledeskClient auth,
Projects, Team, openNow(), getWidgetSettings(), Messaging sendSupportMessage(), Leads, Requests
and Departments. Left out on purpose, because frontdesk has no such feature: Bots, Intents and
Orchestration (chatbots), TiledeskClient fireEvent() (bot events) and Messaging SendEmail()
(outgoing email).

Some of the suite's failure paths call ``process.exit(0)``, so mocha's exit status alone could
pass a broken run: the test reads mocha's JSON report and requires every selected test to have
passed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.realtime.served import CHEAP_HASHING, process_env, serving
from tests.test_tiledesk_client import COMPAT_DIR, SDK_DIR, _require_node

pytestmark = pytest.mark.node

SUITE = SDK_DIR / "test" / "test.js"
MOCHA = COMPAT_DIR / "node_modules" / ".bin" / "mocha"
BLOCKS = (
    "TiledeskClient auth",
    "Projects",
    "Team",
    r"openNow\(\)",
    r"getWidgetSettings\(\)",
    r"Messaging sendSupportMessage\(\)",
    "Leads",
    "Requests",
    "Departments",
)
# The tests of those blocks in test.js of the pinned SDK version (tests/compat/package.json).
EXPECTED_TESTS = 26


def test_the_sdk_suite_passes_in_the_blocks_frontdesk_serves(tmp_path: Path) -> None:
    node = _require_node()
    assert MOCHA.exists(), "mocha is not installed: run `make node`"
    data = tmp_path / "data"
    env = process_env(
        {"FRONTDESK_DATA_DIR": str(data), "FRONTDESK_CHECK_RESPONSES": "true", **CHEAP_HASHING},
        clean=True,
    )
    report = tmp_path / "mocha.json"
    with serving(env, tmp_path / "server.log", "--demo") as server:
        demo = json.loads((data / "demo.json").read_text())
        suite_env = process_env({
            "API_ENDPOINT": server.url,
            "EMAIL": demo["email"],
            "PASSWORD": demo["password"],
            "PROJECT_ID": demo["project_id"],
            "PROJECT_NAME": "Demo Shop",
            "PROJECT_SECRET": demo["secret"],
            # The SDK insists on an API key; frontdesk does not read it.
            "APIKEY": "unused-by-frontdesk",
        })
        done = subprocess.run(
            [node, str(MOCHA), "--timeout", "10000", "--exit",
             "--grep", f"^({'|'.join(BLOCKS)}) ",
             "--reporter", "json", "--reporter-option", f"output={report}", str(SUITE)],
            cwd=COMPAT_DIR, env=suite_env, capture_output=True, text=True, timeout=300,
            check=False,
        )
    assert report.exists(), f"mocha wrote no report:\n{done.stdout}\n{done.stderr}"
    outcome = json.loads(report.read_text())
    failures = [f"{f['fullTitle']}: {f['err'].get('message')}" for f in outcome["failures"]]
    assert failures == [], "\n".join(failures)
    assert outcome["stats"]["passes"] == EXPECTED_TESTS, outcome["stats"]
    assert done.returncode == 0, done.stdout + done.stderr
