"""The demo customer site and the widget's static files, served by frontdesk itself."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


def test_demo_login_signs_a_token_the_widget_can_exchange(app_factory: Any) -> None:
    client: TestClient = app_factory(demo=True)
    login = client.post(
        "/demo/api/login", json={"email": "Ada@Example.com", "name": "Ada Lovelace"}
    )
    assert login.status_code == 200, login.text

    session = client.post(
        "/auth/signinWithCustomToken", headers={"Authorization": "JWT " + login.json()["token"]}
    )
    assert session.status_code == 200, session.text
    user = session.json()["user"]
    assert user["_id"] == login.json()["_id"]
    assert user["isAuthenticated"] is True
    assert (user["firstname"], user["lastname"], user["email"]) == (
        "Ada",
        "Lovelace",
        "Ada@Example.com",
    )

    again = client.post("/demo/api/login", json={"email": "ada@example.com", "name": "Ada"})
    assert again.json()["_id"] == user["_id"]  # one customer per email, whatever the case


def test_demo_login_rejects_a_bad_email_with_the_usual_error_shape(app_factory: Any) -> None:
    client: TestClient = app_factory(demo=True)
    r = client.post("/demo/api/login", json={"email": "not-an-email", "name": "Ada"})
    assert r.status_code == 422
    assert r.json()["success"] is False
    assert r.json()["code"] == "validation_error"


def test_demo_page_embeds_the_widget_for_the_demo_project(app_factory: Any) -> None:
    client: TestClient = app_factory(demo=True)
    page = client.get("/demo/")
    assert page.status_code == 200
    project_id = client.app.state.demo.project_id  # type: ignore[attr-defined]
    assert f'projectid: "{project_id}"' in page.text
    assert '<script src="/widget/frontdesk.js"></script>' in page.text


def test_the_demo_site_exists_only_in_demo_mode(client: TestClient) -> None:
    assert client.get("/demo/").status_code == 404
    assert client.post("/demo/api/login", json={"email": "a@b.c", "name": "A"}).status_code == 404


def test_the_widget_script_is_served_to_any_origin(client: TestClient) -> None:
    r = client.get("/widget/frontdesk.js", headers={"Origin": "https://shop.example"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["access-control-allow-origin"] == "*"
    module = client.get("/widget/lib/app.js", headers={"Origin": "https://shop.example"})
    assert module.status_code == 200
    assert module.headers["access-control-allow-origin"] == "*"
