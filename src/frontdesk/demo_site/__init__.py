"""The demo customer site, served under ``/demo/`` in demo mode only.

A make-believe shop with the widget embedded and a "log in" form. Its tiny backend,
``POST /demo/api/login``, plays the customer's server: it signs a short-lived visitor JWT
with the demo project's secret, exactly as a real customer backend would, and the page hands
it to ``window.frontdesk.signInWithCustomToken``.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from string import Template
from typing import Annotated, Any

import jwt
from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from frontdesk.demo import DemoInfo
from frontdesk.errors import ServiceUnavailable, ValidationFailed
from frontdesk.services import Services

_HERE = Path(__file__).resolve().parent
CUSTOMER_TOKEN_TTL = 300


class DemoLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    ]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def customer_id_for(email: str) -> str:
    """The demo shop's own id for a customer: stable per email, like a real user id."""
    return "demo-" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def sign_customer_token(info: DemoInfo, login: DemoLogin, *, now: float, base_url: str) -> str:
    firstname, _, lastname = login.name.partition(" ")
    claims: dict[str, Any] = {
        "_id": customer_id_for(login.email),
        "sub": "userexternal",
        "aud": f"{base_url}/projects/{info.project_id}",
        "iat": int(now),
        "exp": int(now) + CUSTOMER_TOKEN_TTL,
        "firstname": firstname,
        "lastname": lastname,
        "email": login.email,
        "attributes": {"plan": "Demo Gold", "customer_since": "2021"},
    }
    return jwt.encode(claims, info.secret, algorithm="HS256", headers={"kid": info.kid})


def _demo_info(request: Request) -> DemoInfo:
    info: DemoInfo | None = getattr(request.app.state, "demo", None)
    if info is None:
        raise ServiceUnavailable("the demo project is still being created", code="demo_not_ready")
    return info


async def page(request: Request) -> Response:
    info = _demo_info(request)
    template = Template((_HERE / "index.html").read_text())
    return HTMLResponse(template.substitute(project_id=html.escape(info.project_id)))


async def login(request: Request) -> Response:
    info = _demo_info(request)
    try:
        body = DemoLogin.model_validate_json(await request.body())
    except PydanticValidationError as error:
        raise ValidationFailed(
            "send {email, name}",
            details=[{"loc": e["loc"], "msg": e["msg"]} for e in error.errors()],
        ) from None
    services: Services = request.app.state.services
    token = sign_customer_token(
        info, body, now=services.clock.now(), base_url=services.settings.base_url
    )
    return JSONResponse({"token": token, "_id": customer_id_for(body.email)})


def demo_site_routes() -> list[BaseRoute]:
    return [
        Route("/demo/", page, methods=["GET"]),
        Route("/demo/api/login", login, methods=["POST"]),
        Mount("/demo/static", app=StaticFiles(directory=_HERE / "static"), name="demo-static"),
    ]
