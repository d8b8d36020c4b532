"""The official Tiledesk Node SDK (``@tiledesk/tiledesk-client``) works against frontdesk.

A real server runs on a loopback port; ``tests/compat/drive_client.js`` signs in through the
SDK (agent, anonymous visitor, customer-token visitor), opens conversations, updates requests,
leads, the team and departments, and prints what the SDK got back. The test then checks that
answer, and frontdesk's own API, the way someone integrating the SDK would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import IN_CI, make_settings
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.node

COMPAT_DIR = Path(__file__).parent / "compat"
SDK_DIR = COMPAT_DIR / "node_modules" / "@tiledesk" / "tiledesk-client"


def _require_node() -> str:
    node = shutil.which("node")
    problem = None
    if node is None or shutil.which("npm") is None:
        problem = "node and npm are needed to drive the Tiledesk SDK"
    elif not SDK_DIR.is_dir():
        problem = "the Tiledesk SDK is not installed: run `make node`"
    if problem is None:
        assert node is not None
        return node
    if IN_CI:
        pytest.fail(problem + " (CI=true: the Node client tests must run)")
    pytest.skip(problem)


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, database_url)) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.request.url}: {response.text}"
    return response.json()


class Setup:
    """An agent who owns a project with a visitor-token secret, made through the API."""

    def __init__(self, api: httpx.Client) -> None:
        self.email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
        self.password = "correct horse battery"
        _ok(
            api.post(
                "/auth/signup",
                json={
                    "email": self.email,
                    "password": self.password,
                    "firstname": "Ada",
                    "lastname": "Lovelace",
                },
            )
        )
        signin = _ok(
            api.post("/auth/signin", json={"email": self.email, "password": self.password})
        )
        self.token: str = signin["token"]
        self.agent_id: str = signin["user"]["_id"]
        self.headers = {"Authorization": self.token}
        self.project_id: str = _ok(
            api.post("/projects", json={"name": "Acme"}, headers=self.headers)
        )["_id"]
        key = _ok(api.post(f"/{self.project_id}/keys/generate", headers=self.headers))
        self.secret: str = key["jwtSecret"]


def drive_sdk(server: LiveServer, setup: Setup) -> dict[str, Any]:
    node = _require_node()
    env = dict(
        os.environ,
        FRONTDESK_URL=server.url,
        FRONTDESK_PROJECT=setup.project_id,
        FRONTDESK_EMAIL=setup.email,
        FRONTDESK_PASSWORD=setup.password,
        FRONTDESK_SECRET=setup.secret,
    )
    done = subprocess.run(
        [node, "drive_client.js"],
        cwd=COMPAT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the SDK script printed no JSON:\n{done.stdout}\n{done.stderr}")
    assert done.returncode == 0, f"an SDK call failed: {json.dumps(result.get('error'), indent=2)}"
    return result


def _sub(token: str) -> str:
    """The kind of user a session token is for (read, not verified: the server signed it)."""
    claims = jwt.decode(token.removeprefix("JWT "), options={"verify_signature": False})
    return str(claims["sub"])


def check_sign_ins(setup: Setup, sdk: dict[str, Any]) -> None:
    assert sdk["agent"]["token"].startswith("JWT ")
    assert sdk["agent"]["user"]["email"] == setup.email

    anonymous, custom = sdk["anonymous"], sdk["custom"]
    assert anonymous["token"] != custom["token"]
    assert (_sub(anonymous["token"]), _sub(custom["token"])) == ("guest", "userexternal")
    assert uuid.UUID(anonymous["user"]["_id"]).version == 4
    assert anonymous["user"]["isAuthenticated"] is False
    assert custom["user"]["_id"] == custom["signed"]["_id"]
    assert custom["user"]["email"] == custom["signed"]["email"]
    assert custom["user"]["isAuthenticated"] is True

    assert sdk["forged"]["status"] == 401
    assert sdk["forged"]["body"]["code"] == "bad_signature"


def check_conversations(setup: Setup, sdk: dict[str, Any], api: httpx.Client) -> None:
    anonymous_request = sdk["anonymousMessage"]["request"]
    assert anonymous_request["requester"]["uuid_user"] == sdk["anonymous"]["user"]["_id"]
    assert anonymous_request["requester"]["isAuthenticated"] is False
    info = anonymous_request["attributes"]["senderAuthInfo"]
    # The visitor sent a senderAuthInfo of its own claiming verified: it was discarded.
    assert info["verified"] is False
    assert info["authVar"]["sign_in_provider"] == "anonymous"
    assert "isAuthenticated" not in anonymous_request["attributes"]
    assert anonymous_request["attributes"]["orderPage"] == "/orders"

    custom = sdk["custom"]
    custom_request = sdk["customRequest"]
    assert custom_request["requester"]["uuid_user"] == custom["signed"]["_id"]
    assert custom_request["requester"]["isAuthenticated"] is True
    info = custom_request["attributes"]["senderAuthInfo"]
    assert info["verified"] is True
    assert info["authVar"]["sign_in_provider"] == "custom"
    assert info["authVar"]["token"]["email"] == custom["signed"]["email"]
    assert custom_request["lead"]["email"] == custom["signed"]["email"]
    assert sdk["visitorOwnRequest"]["request_id"] == custom_request["request_id"]

    ids = {anonymous_request["request_id"], custom_request["request_id"]}
    assert ids <= set(sdk["allRequests"]["ids"])
    assert sdk["searchedRequests"]["ids"] == [anonymous_request["request_id"]]
    assert sdk["searchedRequests"]["perPage"] == 100
    assert sdk["missingRequest"] is None
    assert sdk["visitorOtherRequest"]["status"] == 403
    assert sdk["visitorListAll"]["status"] == 403

    headers = {"Authorization": setup.token}
    pid = setup.project_id
    closed = _ok(api.get(f"/{pid}/requests/{anonymous_request['request_id']}", headers=headers))
    assert closed["status"] == 1000
    assert closed["tags"] == ["parcel"]
    assert closed["attributes"]["priority"] == "high"
    assert closed["attributes"]["orderNumber"] == "A-1001"
    assert closed["attributes"]["senderAuthInfo"]["verified"] is False
    served = _ok(api.get(f"/{pid}/requests/{custom_request['request_id']}", headers=headers))
    assert served["participants"] == [setup.agent_id]
    assert served["status"] == 200


def check_leads(setup: Setup, sdk: dict[str, Any], api: httpx.Client) -> None:
    headers = {"Authorization": setup.token}
    pid = setup.project_id
    anonymous = _ok(api.get(f"/{pid}/leads/{sdk['lead']['_id']}", headers=headers))
    assert anonymous["email"] == "parcel.person@example.com"
    assert anonymous["phone"] == "+39 055 0000"
    assert anonymous["attributes"]["vip"] is True
    assert anonymous["attributes"]["plan"] == "gold"
    assert anonymous["tags"] == ["returning"]
    assert anonymous["provenance"]["email"]["source"] == "agent"

    assert sdk["customLeadOverwrite"]["status"] == 422
    assert sdk["customLeadOverwrite"]["body"]["code"] == "verified_field"
    custom = _ok(api.get(f"/{pid}/leads/{sdk['customLeadUpdated']['_id']}", headers=headers))
    assert custom["email"] == sdk["custom"]["signed"]["email"]
    assert custom["fullname"] == "Grace Hopper"
    assert custom["attributes"]["note"] == "called on Monday"
    assert custom["attributes"]["senderAuthInfo"]["verified"] is True


def check_team(setup: Setup, sdk: dict[str, Any], api: httpx.Client) -> None:
    assert [m["id_user"] for m in sdk["team"]] == [setup.agent_id]
    assert sdk["projectUser"][0]["role"] == "owner"
    assert sdk["visitorProjectUser"][0]["isAuthenticated"] is True
    assert sdk["visitorProjectUser"][0]["uuid_user"] == sdk["custom"]["signed"]["_id"]
    assert sdk["availableWhileOff"] == []
    assert [a["id"] for a in sdk["availableWhileOn"]] == [setup.agent_id]
    assert sdk["project"]["_id"] == setup.project_id
    assert sdk["openNow"] == {"isopen": True}
    assert sdk["widget"]["project"]["_id"] == setup.project_id

    pid = setup.project_id
    team = _ok(api.get(f"/{pid}/project_users", headers={"Authorization": setup.token}))
    assert [m["user_available"] for m in team] == [False]
    assert _ok(api.get(f"/projects/{pid}/users/availables")) == []


def check_departments(setup: Setup, sdk: dict[str, Any], api: httpx.Client) -> None:
    billing = sdk["departmentCreated"]["_id"]
    assert sdk["departmentCreated"]["name"] == "Billing"
    assert sdk["departmentRead"]["_id"] == billing
    assert sdk["departmentUpdated"]["name"] == "Billing and invoices"
    assert sdk["departmentUpdated"]["routing"] == "pooled"
    assert billing in [d["_id"] for d in sdk["departments"]]
    assert billing in [d["_id"] for d in sdk["allDepartments"]]
    assert billing in [d["_id"] for d in sdk["visitorDepartments"]]
    assert billing not in [d["_id"] for d in sdk["departmentsAfterDelete"]]
    assert sdk["visitorCreateDepartment"]["status"] == 403

    pid = setup.project_id
    gone = api.get(f"/{pid}/departments/{billing}", headers={"Authorization": setup.token})
    assert gone.status_code == 404

    default = next(d["_id"] for d in sdk["departments"] if d["default"])
    assert sdk["waiting"]["status"] == 100
    assert sdk["assignedToDepartment"]["department"] == billing
    assert sdk["assignedToDepartment"]["status"] == 100  # a pooled department queues
    assert sdk["movedToDefaultDepartment"]["department"] == default
    assert sdk["movedToDefaultDepartment"]["participants"] == [setup.agent_id]
    rid = sdk["waiting"]["request_id"]
    history = _ok(
        api.get(f"/{pid}/requests/{rid}/messages", headers={"Authorization": setup.token})
    )
    assert [(m["sender"], m["text"]) for m in history] == [
        (sdk["anonymous"]["user"]["_id"], "Anyone there?"),
        (setup.agent_id, "Yes, how can I help?"),
    ]


def test_the_tiledesk_sdk_works_against_frontdesk(server: LiveServer, api: httpx.Client) -> None:
    setup = Setup(api)
    sdk = drive_sdk(server, setup)

    check_sign_ins(setup, sdk)
    check_conversations(setup, sdk, api)
    check_leads(setup, sdk, api)
    check_team(setup, sdk, api)
    check_departments(setup, sdk, api)
