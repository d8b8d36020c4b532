"""Concurrent edits of a project's settings and of a department: different fields all
survive."""

from __future__ import annotations

import asyncio

from tests.concurrency.conftest import Api, Cluster


def test_concurrent_edits_of_different_settings_and_department_fields_all_survive(
    cluster: Cluster,
) -> None:
    cluster.run(_settings_and_department_edits_at_once)


async def _settings_and_department_edits_at_once(api: Api) -> None:
    owner = await api.agent()
    project_id = await api.project(owner)
    settings = {
        "key_grace_period": 120, "max_token_age": 600, "anonymous_retention_days": 30,
        "require_exp": True, "single_use_tokens": True,
        "allowed_origins": ["https://shop.example"],
    }
    department = await api.call("POST", f"/{project_id}/departments", owner.token,
                                json={"name": "Sales"})
    dept_path = f"/{project_id}/departments/{department['_id']}"
    await asyncio.gather(
        *(api.call("PUT", f"/projects/{project_id}", owner.token,
                   json={"settings": {name: value}}) for name, value in settings.items()),
        api.call("PUT", f"/projects/{project_id}", owner.token, json={"name": "Renamed"}),
        api.call("PUT", dept_path, owner.token, json={"name": "Sales EMEA"}),
        api.call("PUT", dept_path, owner.token, json={"routing": "pooled"}),
        api.call("PUT", dept_path, owner.token, json={"agents": [owner.user_id]}),
    )
    project = await api.call("GET", f"/projects/{project_id}", owner.token)
    assert project["name"] == "Renamed"
    assert {name: project["settings"].get(name) for name in settings} == settings
    edited = await api.call("GET", dept_path, owner.token)
    assert (edited["name"], edited["routing"]) == ("Sales EMEA", "pooled")
    assert [a if isinstance(a, str) else a["id_user"] for a in edited["agents"]] == [
        owner.user_id
    ]

