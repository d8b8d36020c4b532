"""No write of a project's row, its keys, its departments or an agent's membership can miss
the project cache.

The source is walked: every function that calls a storage function writing ``projects``,
``project_keys``, ``departments`` or ``project_users`` must call
``services.project_changed_on_commit`` after that call, unless it writes only visitors'
memberships (never cached), listed here with the reason. SQL writing these tables anywhere
but their storage modules fails, and so does a storage function writing them that this test
does not know of.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import frontdesk

SOURCE = Path(frontdesk.__file__).parent
STORAGE = ("storage/projects.py", "storage/project_users.py", "storage/keys.py",
           "storage/departments.py")
WRITES = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"
    r"(projects|project_users|project_keys|departments)\b",
    re.IGNORECASE,
)
WRITERS = {
    "insert_project", "update_project",
    "insert_project_user", "queue_new_visitor", "update_project_user", "delete_project_user",
    "refresh_customer",
    "insert_key", "retire_active_keys", "retire_key",
    "insert_department", "update_department", "update_department_trust", "delete_department",
}
EVICT = "project_changed_on_commit"
# (module, function): why its writes need no eviction.
VISITORS_ONLY = {
    ("actions/visitors.py", "do_signin_anonymously"): "inserts the new visitor's guest row",
    ("actions/visitors.py", "do_signin_authenticated"):
        "inserts or updates the visitor's 'user' row; refuses any other role (identity_conflict)",
    ("actions/leads.py", "_erase_visitor"): "deletes only a 'guest' or 'user' row",
    ("actions/visitors.py", "_refresh_returning_customer"):
        "updates only a 'user' row (its UPDATE requires role 'user')",
}


def _modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(SOURCE)): ast.parse(path.read_text(), str(path))
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts
    }


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _own_calls(function: ast.AST) -> list[ast.Call]:
    """The calls in ``function``'s body, not in the functions defined inside it."""
    calls: list[ast.Call] = []
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return calls


def test_the_storage_functions_writing_projects_and_memberships_are_known() -> None:
    modules = _modules()
    found = set()
    for name in STORAGE:
        tree = modules[name]
        constants = {
            target.id: " ".join(_strings(node.value))
            for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)
        }
        for function in _functions(tree):
            text = " ".join(_strings(function)) + " ".join(
                constants.get(n.id, "") for n in ast.walk(function) if isinstance(n, ast.Name)
            )
            if WRITES.search(text):
                found.add(function.name)
    assert found == WRITERS, "a storage function writes a cached table: add it here"


def test_no_sql_elsewhere_writes_projects_or_memberships() -> None:
    offenders = [
        name for name, tree in _modules().items()
        if name not in STORAGE and any(WRITES.search(s) for s in _strings(tree))
    ]
    assert offenders == []


def test_every_write_is_followed_by_an_eviction() -> None:
    missing, exempt_seen = [], set()
    for name, tree in _modules().items():
        if name in STORAGE:
            continue
        for function in _functions(tree):
            calls = _own_calls(function)
            writes = [c.lineno for c in calls if _called(c) in WRITERS]
            if not writes:
                continue
            if (name, function.name) in VISITORS_ONLY:
                exempt_seen.add((name, function.name))
                continue
            evictions = [c.lineno for c in calls if _called(c) == EVICT]
            missing += [f"{name}:{line} in {function.name}" for line in writes
                        if not any(e > line for e in evictions)]
    assert missing == [], "these writes do not evict the project cache"
    assert exempt_seen == set(VISITORS_ONLY), "an exemption no longer matches a write"
