"""The ``frontdesk`` command, run as a user runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest

from tests.conftest import REDIS_URL, require_service
from tests.live import free_port
from tests.realtime.served import serving


def _frontdesk(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update({"FRONTDESK_DATA_DIR": str(tmp_path / "data"), **extra})
    return env


def test_serve_demo_prints_a_working_login(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, FRONTDESK_PORT=str(port), FRONTDESK_PASSWORD_HASH_MEMORY_KIB="1024")
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "serve", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while "project id" not in output and time.monotonic() < deadline:
            output += proc.stdout.readline()
        login = re.search(r"agent login\s+(\S+) / (\S+)", output)
        project = re.search(r"project id\s+([0-9a-f]{24})", output)
        assert login and project, output
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        r = httpx.post(base + "/auth/signin", json={"email": login[1], "password": login[2]})
        assert r.status_code == 200
        r = httpx.get(f"{base}/projects/{project[1]}", headers={"Authorization": r.json()["token"]})
        assert r.json()["name"] == "Demo Shop"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_migrate_create_agent_and_settings(tmp_path: Path) -> None:
    env = _env(tmp_path, FRONTDESK_PASSWORD_HASH_MEMORY_KIB="1024")
    assert "m0001_create_core_tables" in _frontdesk("migrate", env=env).stdout
    assert "up to date" in _frontdesk("migrate", env=env).stdout
    assert _frontdesk("create-agent", "ops@x.example", "a long password", env=env).returncode == 0
    listing = _frontdesk("settings", env=env).stdout
    assert "FRONTDESK_DATABASE_URL" in listing and "FRONTDESK_SECRET" in listing


def test_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    result = _frontdesk("migrate", env=_env(tmp_path, FRONTDESK_SECRET="changeme"))
    assert result.returncode == 2 and "FRONTDESK_SECRET" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FRONTDESK_HTTP_MAX_HEADER_BYTES", "0"),
        ("FRONTDESK_HTTP_HEADER_TIMEOUT", "0"),
        ("FRONTDESK_HTTP_BODY_IDLE_TIMEOUT", "-1"),
        ("FRONTDESK_HTTP_KEEP_ALIVE_TIMEOUT", "0"),
        ("FRONTDESK_HTTP_MAX_CONNECTIONS", "0"),
        ("FRONTDESK_HTTP_MAX_CONNECTIONS_PER_IP", "-1"),
        ("FRONTDESK_HTTP_HEADER_TIMEOUT", "soon"),
    ],
)
def test_serve_refuses_connection_limits_that_cannot_work(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = _frontdesk("serve", env=_env(tmp_path, **{variable: value}))
    assert result.returncode == 2 and variable in result.stderr


def test_sign_token_produces_a_customer_token(tmp_path: Path) -> None:
    result = _frontdesk(
        "sign-token",
        "--project",
        "a" * 24,
        "--secret",
        "s" * 64,
        "--id",
        "c-1",
        "--email",
        "c@x.example",
        env=_env(tmp_path),
    )
    claims = jwt.decode(
        result.stdout.strip(),
        "s" * 64,
        algorithms=["HS256"],
        audience="https://tiledesk.com/projects/" + "a" * 24,
    )
    assert claims["_id"] == "c-1" and claims["sub"] == "userexternal"


def test_several_workers_without_redis_are_refused(tmp_path: Path) -> None:
    """Each worker would keep its own sockets and session cache and never hear another's
    sign-outs: starting so is refused, with what to set."""
    env = _env(tmp_path, FRONTDESK_PORT=str(free_port()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "serve", "--workers", "2"],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # so a server that did start is stopped with its workers
    )
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("serve --workers 2 started without FRONTDESK_REDIS_URL") from None
    assert proc.returncode == 2
    assert "--workers 2 needs FRONTDESK_REDIS_URL" in stderr



def _process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree = [pid]
    for process in tree:
        tree.extend(child for child, parent in parents.items() if parent == process)
    return tree


def _worker_count(pid: int) -> int:
    count = 0
    for process in _process_tree(pid)[1:]:
        try:
            count += b"spawn_main" in Path(f"/proc/{process}/cmdline").read_bytes()
        except OSError:
            continue
    return count


@pytest.mark.parametrize(
    "workers", [1, pytest.param(2, marks=[pytest.mark.postgres, pytest.mark.redis])]
)
def test_serve_keeps_the_secret_out_of_the_process_environment(
    tmp_path: Path, request: pytest.FixtureRequest, workers: int
) -> None:
    port = free_port()
    env = _env(tmp_path, FRONTDESK_LOG_LEVEL="warning", FRONTDESK_HTTP_MAX_HEADER_BYTES="4096")
    if workers > 1:  # several processes share their events through Redis
        require_service("Redis", "127.0.0.1", 6379)
        env["FRONTDESK_DATABASE_URL"] = request.getfixturevalue("pg_schema")
        env["FRONTDESK_REDIS_URL"] = REDIS_URL
        env["FRONTDESK_REDIS_CHANNEL"] = f"frontdesk-test:{port}"
    log = tmp_path / "serve.log"
    with serving(env, log, "--workers", str(workers), port=port, probe="/health",
                 timeout=60) as server:
        deadline = time.monotonic() + 60
        while _worker_count(server.pid) < (workers if workers > 1 else 0):
            assert server.process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # The secret was generated at first start and kept in the data dir, not the environment.
        secret = (tmp_path / "data" / "secret.key").read_text().strip().encode()
        environments = {pid: Path(f"/proc/{pid}/environ").read_bytes()
                        for pid in _process_tree(server.pid)}
        assert len(environments) >= 1 + (workers if workers > 1 else 0)
        assert all(secret not in environ for environ in environments.values())
        assert all(b"FRONTDESK_SECRET=" not in environ for environ in environments.values())
        # The serving processes still read the rest of their settings from the environment.
        for _ in range(4):  # new connections, so that more than one worker is likely asked
            r = httpx.get(server.url + "/health", headers={"X-Big": "a" * 5000})
            assert (r.status_code, r.json()["code"]) == (431, "headers_too_large")
