"""Settings: one typed table from the environment, unsafe values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontdesk.errors import ConfigurationError
from frontdesk.settings import Settings, describe


def test_defaults_and_environment() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.effective_database_url.startswith("sqlite:///")
    s = Settings.from_env(
        {
            "FRONTDESK_PORT": "9001",
            "FRONTDESK_DEMO": "yes",
            "FRONTDESK_DATABASE_URL": "postgresql://db/x",
        }
    )
    assert s.port == 9001 and s.demo is True and s.effective_database_url == "postgresql://db/x"


@pytest.mark.parametrize(
    "env",
    [
        {"FRONTDESK_PORT": "eighty"},
        {"FRONTDESK_DEMO": "maybe"},
        {"FRONTDESK_SECRET": "changeme"},
        {"FRONTDESK_SECRET": "short"},
        {"FRONTDESK_DATABASE_URL": "mysql://x"},
        {"FRONTDESK_VISITOR_TOKEN_TTL": "0"},
    ],
)
def test_unsafe_or_unparseable_values_fail_fast(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(env)
    assert "FRONTDESK_" in info.value.message


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    s = Settings.from_env({"FRONTDESK_DATA_DIR": str(tmp_path)})
    first = s.with_secret().secret
    assert len(first) >= 48
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert s.with_secret().secret == first
    other = Settings.from_env({"FRONTDESK_DATA_DIR": str(tmp_path / "elsewhere")})
    assert other.with_secret().secret != first


def test_every_setting_is_documented() -> None:
    rows = describe()
    assert all(name.startswith("FRONTDESK_") and help_text for name, _, help_text in rows)
    assert {
        "FRONTDESK_HOST",
        "FRONTDESK_PORT",
        "FRONTDESK_DATA_DIR",
        "FRONTDESK_DATABASE_URL",
        "FRONTDESK_REDIS_URL",
        "FRONTDESK_SECRET",
        "FRONTDESK_CLOCK_SKEW_LEEWAY",
    } <= {r[0] for r in rows}
