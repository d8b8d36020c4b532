"""The dashboard's pages and assets are served, under a policy that forbids inline script."""

from __future__ import annotations

from starlette.testclient import TestClient


def test_every_dashboard_path_serves_the_shell_with_a_strict_policy(client: TestClient) -> None:
    for path in ("/dashboard/", "/dashboard/signin", "/dashboard/0123456789abcdef01234567/keys"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/dashboard/static/js/app.js">' in r.text
        policy = r.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_bare_dashboard_redirects_and_assets_load(client: TestClient) -> None:
    r = client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/dashboard/"
    script = client.get("/dashboard/static/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert client.get("/dashboard/static/css/dashboard.css").status_code == 200
    assert client.get("/dashboard/static/js/missing.js").status_code == 404
