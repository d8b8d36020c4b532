"""The demo: an agent, a project with a secret, and the URLs to try both kinds of visitor.

Created once and remembered in ``<data_dir>/demo.json`` (mode 600), so a restart prints the
same login. Only ``frontdesk serve --demo`` (what ``make run`` starts) creates it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass

from frontdesk.actions import accounts, keys, projects
from frontdesk.actions.access import ProjectAccess
from frontdesk.auth.principals import Agent
from frontdesk.services import Services
from frontdesk.storage import project_users, users
from frontdesk.storage import projects as project_rows

DEMO_EMAIL = "agent@demo.frontdesk.test"


@dataclass(frozen=True)
class DemoInfo:
    email: str
    password: str
    project_id: str
    secret: str
    kid: str


async def ensure_demo(services: Services) -> DemoInfo:
    path = services.settings.data_dir / "demo.json"
    if path.exists():
        info = DemoInfo(**json.loads(path.read_text()))
        if await project_rows.get_project(services.db, info.project_id) is not None:
            return info
    password = secrets.token_urlsafe(12)
    user = await _demo_user(services, password)
    agent = Agent(user_id=user["id"], email=user["email"], firstname=user["firstname"],
                  lastname=user["lastname"], jti=None)
    project = await projects.do_create_project(services, agent, "Demo Shop")
    row = await project_rows.get_project(services.db, project["_id"])
    membership = await project_users.get_membership(services.db, project["_id"], agent.user_id)
    assert row is not None and membership is not None
    key = await keys.do_generate_key(services, ProjectAccess(row, agent, membership))
    info = DemoInfo(user["email"], password, project["_id"], key["jwtSecret"], key["kid"])
    services.settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(info), handle)
    return info


async def _demo_user(services: Services, password: str) -> dict[str, str]:
    """The demo agent, created, or given a new password if it exists from an older demo."""
    existing = await users.get_user_by_email(services.db, DEMO_EMAIL)
    if existing is None:
        return dict(await accounts.do_create_account(
            services, email=DEMO_EMAIL, password=password, firstname="Demo", lastname="Agent"
        ))
    async with services.db.transaction() as tx:
        await tx.execute("UPDATE users SET password_hash = $2 WHERE id = $1", existing["id"],
                         await services.passwords.hash(password))
    return dict(existing)


def banner(info: DemoInfo, base_url: str) -> str:
    return "\n".join(
        [
            "",
            "frontdesk demo is ready",
            f"  agent login    {info.email} / {info.password}",
            f"  dashboard      {base_url}/dashboard/",
            f"  customer site  {base_url}/demo/",
            f"  project id     {info.project_id}",
            f"  API            {base_url}/openapi.json",
            "",
        ]
    )
