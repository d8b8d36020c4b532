"""Settings: one typed table from the environment, unsafe values refused."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

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
        {"FRONTDESK_LOG_FORMAT": "xml"},
        {"FRONTDESK_LOG_LEVEL": "chatty"},
        {"FRONTDESK_READY_TIMEOUT": "0"},
        {"FRONTDESK_SMTP_URL": "http://mail.example.com", "FRONTDESK_SMTP_FROM": "a@b.c"},
        {"FRONTDESK_SMTP_URL": "smtp://mail.example.com"},
        {"FRONTDESK_SMTP_STARTTLS": "maybe"},
        {"FRONTDESK_EMAIL_CODE_ATTEMPTS": "0"},
    ],
)
def test_unsafe_or_unparseable_values_fail_fast(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(env)
    assert next(iter(env)) in info.value.message  # the error names the setting at fault


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    s = Settings.from_env({"FRONTDESK_DATA_DIR": str(tmp_path)})
    first = s.with_secret().secret
    assert len(first) >= 48
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert s.with_secret().secret == first
    other = Settings.from_env({"FRONTDESK_DATA_DIR": str(tmp_path / "elsewhere")})
    assert other.with_secret().secret != first


def test_processes_starting_together_share_one_generated_secret(tmp_path: Path) -> None:
    # Servers or `frontdesk migrate` runs started at once on a new data dir: none may fail
    # on the file another is creating, nor read it before it is written.
    for attempt in range(30):
        data_dir = tmp_path / str(attempt)
        found = _secrets_read_together(Settings.from_env({"FRONTDESK_DATA_DIR": str(data_dir)}))
        assert len(set(found)) == 1, found
        assert len(str(found[0])) >= 48
        assert [p.name for p in data_dir.iterdir()] == ["secret.key"]


def test_an_empty_stored_secret_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("\n")
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"FRONTDESK_DATA_DIR": str(tmp_path)}).with_secret()
    assert "secret.key is empty" in info.value.message


def _secrets_read_together(settings: Settings, readers: int = 8) -> list[object]:
    start = threading.Barrier(readers)
    found: list[object] = []

    def read() -> None:
        start.wait()
        try:
            found.append(settings.with_secret().secret)
        except Exception as error:
            found.append(error)

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


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


SECRET = "s3cr3t-" + "q" * 40
DB_PASSWORD = "db-pa55word"
REDIS_PASSWORD = "redis-pa55word"


def _settings_with_secrets(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "FRONTDESK_DATA_DIR": str(tmp_path),
            "FRONTDESK_SECRET": SECRET,
            "FRONTDESK_DATABASE_URL": f"postgresql://frontdesk:{DB_PASSWORD}@db.internal:5432/fd",
            "FRONTDESK_REDIS_URL": f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0",
        }
    )


def test_repr_and_str_hide_the_secret_and_url_passwords(tmp_path: Path) -> None:
    s = _settings_with_secrets(tmp_path)
    assert s.secret == SECRET
    assert DB_PASSWORD in s.effective_database_url
    for shown in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert SECRET not in shown
        assert DB_PASSWORD not in shown and REDIS_PASSWORD not in shown
        assert "db.internal:5432/fd" in shown and "cache.internal:6379" in shown


def test_logging_the_settings_never_shows_the_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = _settings_with_secrets(tmp_path)
    with caplog.at_level(logging.INFO):
        logging.getLogger("frontdesk.test").info("settings %s / %r", s, s)
        logging.getLogger("frontdesk.test").info("settings %s", s.replace(port=9001))
    assert "port=9001" in caplog.text
    assert SECRET not in caplog.text
    assert DB_PASSWORD not in caplog.text and REDIS_PASSWORD not in caplog.text


def test_a_bad_secret_is_not_echoed_in_the_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"FRONTDESK_SECRET": "changeme"})
    assert "changeme" not in info.value.message
    with pytest.raises(ValidationError) as refused:
        Settings(secret=[SECRET])
    assert SECRET not in str(refused.value)


def test_settings_are_frozen_and_replace_checks_values(tmp_path: Path) -> None:
    s = Settings.from_env({"FRONTDESK_DATA_DIR": str(tmp_path)})
    with pytest.raises(ValidationError):
        s.port = 1  # type: ignore[misc]
    assert s.replace(port=9002).port == 9002 and s.port == 8000
    with pytest.raises(ConfigurationError) as info:
        s.replace(port=0)
    assert info.value.message == "FRONTDESK_PORT must be positive"


def test_constructing_settings_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_PORT", "9003")
    assert Settings().port == 8000
    assert Settings.from_env().port == 9003
    assert Settings.from_env(port=9004).port == 9004


def test_describe_keeps_defaults_and_help() -> None:
    rows = {name: (default, help_text) for name, default, help_text in describe()}
    assert rows["FRONTDESK_PORT"] == ("8000", "TCP port the HTTP server listens on.")
    assert rows["FRONTDESK_DATA_DIR"][0] == "data"


def test_the_smtp_password_is_hidden() -> None:
    s = Settings(smtp_url="smtp://mailer:hunter2-smtp@mail.example.com:587",
                 smtp_from="support@example.com")
    for shown in (repr(s), str(s)):
        assert "hunter2-smtp" not in shown and "mail.example.com:587" in shown
