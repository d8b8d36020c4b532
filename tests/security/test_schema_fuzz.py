"""Schema fuzzing: schemathesis generates requests from frontdesk's own /openapi.json.

Every operation is called as an agent (the project's owner) and as an anonymous visitor, with
the project id (and request id, where there is one) pointing at real objects so that the
generated bodies and queries reach the handlers. Every answer must be documented: no 5xx, a
documented status, JSON errors in the one error shape, successes matching their schema.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from tests.conftest import Factory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 10
# Logging out would revoke the very token the rest of the run uses.
SKIPPED = {"logout"}
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _fuzz_operation(
    client: TestClient, operation: Any, headers: dict[str, str], real_ids: dict[str, str]
) -> None:
    @given(case=operation.as_strategy())
    @FUZZ_SETTINGS
    def run(case: Any) -> None:
        for name, value in real_ids.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        response = client.request(
            kwargs["method"],
            kwargs["url"],
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            json=kwargs.get("json"),
        )
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 400:
            body = response.json()
            assert body["success"] is False and body["code"] and body["message"], body

    run()


# The visitor's view is mostly refusals, identical on both backends; the agent reaches storage.
@pytest.mark.parametrize(
    ("database_url", "caller"),
    [("sqlite", "agent"), ("sqlite", "visitor"), ("postgresql", "agent")],
    indirect=["database_url"],
)
def test_generated_requests_get_documented_answers(make: Factory, caller: str) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello").status_code == 200
    headers = project.owner.headers if caller == "agent" else visitor.headers
    schema = schemathesis.openapi.from_dict(make.client.get("/openapi.json").json())
    real_ids = {"pid": project.id, "rid": rid}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(make.client.app.state.endpoints)  # type: ignore[attr-defined]
    for operation in operations:
        if operation.definition.raw.get("operationId") in SKIPPED:
            continue
        _fuzz_operation(make.client, operation, headers, real_ids)
