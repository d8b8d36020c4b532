"""Settings: one typed table, read from the environment.

Every setting has an environment variable (``FRONTDESK_`` + its upper-case name), a default and
a help text; ``frontdesk settings`` prints the table. Nothing here is read at import time:
``Settings.from_env()`` is called by the command line or by tests; ``Settings(...)`` takes
values as given and reads no environment.

The secret, and the password of a database or Redis URL, never appear in ``repr()``, ``str()``
or a log line of the settings.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from frontdesk.client_address import TrustedProxies
from frontdesk.errors import ConfigurationError

_ENV_PREFIX = "FRONTDESK_"
_MIN_SECRET_LENGTH = 32
_PLACEHOLDER_SECRETS = {"changeme", "secret", "nil", "null", "none", "development", "frontdesk"}
_SECRET_SETTINGS = frozenset({"secret"})
_URL_SETTINGS = frozenset({"database_url", "redis_url", "smtp_url"})
_HIDDEN = "**********"


def _setting(default: Any, help: str) -> Any:
    """One row of the table: its default and the help text ``frontdesk settings`` shows."""
    return Field(default=default, description=help)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=_ENV_PREFIX,
        env_ignore_empty=True,
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,  # a refused value may be a secret
    )

    host: str = _setting("127.0.0.1", "Address the HTTP server listens on.")
    port: int = _setting(8000, "TCP port the HTTP server listens on.")
    data_dir: Path = _setting(
        Path("data"),
        "Folder for the SQLite file and the generated secret.",
    )
    database_url: str = _setting(
        "", "Database URL. Empty: SQLite file in the data dir. postgresql://… selects PostgreSQL."
    )
    database_pool_size: int = _setting(
        10,
        "PostgreSQL connections each process may hold at once; mind the server's"
        " max_connections across processes (SQLite ignores it).",
    )
    redis_url: str = _setting(
        "",
        "Redis URL for realtime events and rate limits shared across processes. Empty:"
        " in-memory, one process.",
    )
    redis_channel: str = _setting(
        "frontdesk:events", "Redis pub/sub channel the processes of one deployment share."
    )
    ws_heartbeat_interval: float = _setting(
        25.0, "Seconds between WebSocket heartbeats; a socket silent for two is closed."
    )
    ws_send_queue: int = _setting(
        256, "Frames a WebSocket may have waiting; a client further behind is closed."
    )
    ws_max_frame_bytes: int = _setting(
        64 * 1024, "Largest WebSocket frame a client may send, bytes (larger: close 1009)."
    )
    ws_frame_rate: float = _setting(
        20.0,
        "WebSocket frames a session (all its sockets) may send per second, sustained"
        " (excess: rate_limited).",
    )
    ws_frame_burst: int = _setting(
        40,
        "WebSocket frames a session (all its sockets) may send at once; refused this many more"
        " before it calms down: closed with 4429.",
    )
    secret: str = _setting(
        "", "Server signing secret (32+ chars). Empty: generated at first start, kept in data dir."
    )
    public_url: str = _setting(
        "", "Public base URL of this server, for printed links, OpenAPI and the widget snippet."
    )
    agent_token_ttl: int = _setting(7 * 24 * 3600, "Lifetime of an agent session token, seconds.")
    visitor_token_ttl: int = _setting(
        90 * 24 * 3600, "Lifetime of a visitor session token (refreshed on re-sign-in), seconds."
    )
    clock_skew_leeway: int = _setting(
        60, "Seconds of clock skew tolerated on exp/nbf/iat of customer tokens."
    )
    key_grace_period: int = _setting(
        7 * 24 * 3600, "Seconds a rotated project secret keeps verifying customer tokens."
    )
    session_cache_seconds: int = _setting(
        30,
        "Seconds a verified session token is remembered per process (0: check every call). "
        "Revocations evict at once.",
    )
    project_cache_seconds: int = _setting(
        30,
        "Seconds a project, its live keys and an agent's membership are remembered per "
        "process (0: read them every call). Changes evict at once.",
    )
    jwks_cache_seconds: int = _setting(
        300, "Seconds a JWKS document fetched from a customer's URL is kept."
    )
    jwks_min_refetch_seconds: int = _setting(
        30, "Least seconds between two fetches of one JWKS URL (unknown kids trigger one)."
    )
    signin_rate_per_ip: int = _setting(
        20, "Anonymous sign-ins per minute from one IP address (0: unlimited)."
    )
    signin_rate_per_project: int = _setting(
        600, "Anonymous sign-ins per minute into one project (0: unlimited)."
    )
    message_rate_per_ip: int = _setting(
        60, "Visitor messages per minute from one IP address (0: unlimited)."
    )
    message_rate_per_project: int = _setting(
        3000, "Visitor messages per minute into one project (0: unlimited)."
    )
    audit_burst_threshold: int = _setting(
        10, "Failed custom-token sign-ins in one project within the window that flag a burst."
    )
    audit_burst_window: int = _setting(
        300, "Seconds over which failed sign-ins are counted for the suspicious-burst flag."
    )
    password_hash_memory_kib: int = _setting(
        65536, "Argon2id memory cost in KiB for agent passwords."
    )
    password_hash_time_cost: int = _setting(3, "Argon2id iterations for agent passwords.")
    max_body_bytes: int = _setting(256 * 1024, "Largest accepted HTTP request body, bytes.")
    check_responses: bool = _setting(
        False, "Check every API response against its documented schema (the tests turn it on)."
    )
    demo: bool = _setting(False, "Create a demo project, agent and customer site at start.")
    log_level: str = _setting("info", "Log level: debug, info, warning, error.")
    invitation_ttl: int = _setting(
        7 * 24 * 3600,
        "Seconds an invitation's single-use accept link stays valid (inviting again issues a"
        " new one).",
    )
    redis_resubscribe_delay: float = _setting(
        0.1,
        "Seconds before resubscribing to Redis after the subscription dropped, doubled per"
        " failure up to 5; once back, every socket is re-checked.",
    )
    ws_send_queue_bytes: int = _setting(
        1024 * 1024,
        "Bytes of frames a WebSocket may have waiting; a client further behind is closed (4409).",
    )
    ws_snapshot_bytes: int = _setting(
        256 * 1024,
        "Most bytes of messages or requests one subscribe sends at once; the rest is paged.",
    )
    ws_sockets_per_session: int = _setting(
        10, "Open WebSockets one session token may have per server process (more: close 4429)."
    )
    ws_sockets_per_address: int = _setting(
        100,
        "Open WebSockets one client address may have per server process (more: close 4429;"
        " 0: unlimited).",
    )
    failed_signin_rate_per_ip: int = _setting(
        10,
        "Refused customer-token sign-ins per minute from one IP address; more are answered 429"
        " (0: unlimited).",
    )
    failed_signin_rate_per_project: int = _setting(
        120,
        "Refused customer-token sign-ins per minute into one project; more are answered 429"
        " (0: unlimited).",
    )
    jwks_allow_private: bool = _setting(
        False,
        "Fetch JWKS URLs whose host resolves to a private, loopback or link-local address"
        " (on a private network only: customers' URLs could otherwise reach inside).",
    )
    jwks_ca_file: str = _setting(
        "", "A PEM file of extra certificate authorities trusted for JWKS URLs (empty: none)."
    )
    jwks_fetch_timeout: float = _setting(
        5.0, "Seconds one JWKS fetch may take in all: resolving, connecting, TLS and reading."
    )
    jwks_fetches_per_project: int = _setting(
        2, "JWKS URLs of one project fetched at the same time; more answer from the cache."
    )
    jwks_fetches_total: int = _setting(
        32, "JWKS URLs fetched at the same time in one process; more answer from the cache."
    )
    http_max_header_bytes: int = _setting(
        16 * 1024, "Largest request line plus headers of an HTTP request, bytes (larger: 431)."
    )
    http_header_timeout: float = _setting(
        10.0,
        "Seconds a client has to send a request's headers, from connecting or from its first"
        " byte (late: 408, closed).",
    )
    http_body_idle_timeout: float = _setting(
        30.0,
        "Seconds a request body may stall (then 408, closed), or a client leave its answers"
        " unread (then dropped).",
    )
    http_keep_alive_timeout: int = _setting(
        5, "Seconds an idle kept-alive HTTP connection stays open between requests."
    )
    http_max_connections: int = _setting(
        1000,
        "Open connections (HTTP and WebSocket) per server process; more are answered 503 and"
        " closed. Keep it below the open-file limit (ulimit -n).",
    )
    http_max_connections_per_ip: int = _setting(
        200,
        "Open connections from one client IP address per server process (0: no limit); more"
        " are answered 429 and closed. A trusted proxy's connections are not counted.",
    )
    password_hash_concurrency: int = _setting(
        max(1, (os.cpu_count() or 2) // 2),
        "Password hashes (Argon2id) run at once per process, off the event loop (default: half"
        " the CPU cores, so the event loop keeps one to itself).",
    )
    password_hash_queue: int = _setting(
        16,
        "Password checks that may wait for a hashing slot; more at once are refused with 503"
        " password_checks_busy.",
    )
    failed_passwords_per_ip: int = _setting(
        10,
        "Wrong passwords (sign-in or HTTP Basic) per minute from one IP address before 429"
        " too_many_failed_signins (0: unlimited).",
    )
    failed_passwords_per_account: int = _setting(
        30,
        "Wrong passwords per minute for one account email, from any address, before 429"
        " too_many_failed_signins (0: unlimited).",
    )
    trusted_proxies: str = _setting(
        "",
        "Comma-separated addresses and CIDRs of the reverse proxies in front of the server;"
        " only they may pass on a request's client address and X-Request-ID (empty: none).",
    )
    log_format: str = _setting(
        "text", "Log line format: text (LEVEL logger message) or json (one object a line)."
    )
    metrics: bool = _setting(
        False, "Serve Prometheus metrics at GET /metrics (off: 404). Each process serves its own."
    )
    metrics_token: str = _setting(
        "", "Bearer token GET /metrics requires (empty: none; then keep /metrics off the proxy)."
    )
    ready_timeout: float = _setting(
        2.0, "Seconds GET /ready waits for the database and for Redis before answering 503."
    )
    basic_auth_cache_seconds: int = _setting(
        300,
        "Seconds a verified HTTP Basic email and password is remembered per process, so a"
        " client re-sending it skips Argon2id (0: verify every call).",
    )
    shutdown_timeout: float = _setting(
        30.0,
        "Seconds a stopping process (SIGTERM) waits for the requests it accepted to be"
        " answered before cancelling them.",
    )
    smtp_url: str = _setting(
        "",
        "SMTP server for e-mail: smtp://user:password@host:587 (STARTTLS per smtp_starttls) or"
        " smtps://… (TLS from the start). Empty: no e-mail is sent, and the features that need"
        " it say so.",
    )
    smtp_from: str = _setting(
        "", "Sender address of every e-mail, e.g. Support <support@example.com>."
    )
    smtp_starttls: str = _setting(
        "auto",
        "For smtp:// URLs: auto (upgrade when the server offers it), require, or off.",
    )
    smtp_timeout: float = _setting(30.0, "Seconds an SMTP connection or command may take.")
    smtp_ca_file: str = _setting(
        "", "PEM file of extra certificate authorities to trust for the SMTP server's TLS."
    )
    email_code_ttl: int = _setting(600, "Seconds an e-mail verification code stays valid.")
    email_code_attempts: int = _setting(
        5, "Wrong guesses after which an e-mail verification code is locked."
    )
    email_code_rate_per_address: int = _setting(
        3, "E-mail verification codes sent to one address per minute (0: unlimited)."
    )
    email_code_rate_per_ip: int = _setting(
        5, "E-mail verification codes one client address may ask for per minute (0: unlimited)."
    )
    email_code_rate_per_project: int = _setting(
        60, "E-mail verification codes sent per project per minute (0: unlimited)."
    )
    continuity_away_minutes: int = _setting(
        10,
        "Minutes without a live connection after which an agent's reply is e-mailed to the"
        " visitor's verified address (once per absence).",
    )
    continuity_link_ttl: int = _setting(
        24 * 3600, "Seconds the link in a reply e-mail reopens its conversation (once)."
    )
    outbox_poll_interval: float = _setting(
        2.0, "Seconds between two looks at the e-mail outbox by each process."
    )
    outbox_max_attempts: int = _setting(
        8, "Attempts to send one e-mail (with growing delays) before it is given up."
    )
    max_upload_bytes: int = _setting(
        10 * 1024 * 1024,
        "Largest file a visitor or agent may upload, bytes (a project may set a lower one).",
    )
    max_image_pixels: int = _setting(
        40_000_000, "Most pixels (width x height) an uploaded image may have; more is refused."
    )
    file_url_ttl: int = _setting(600, "Seconds a signed file download URL stays valid.")
    file_inspection_concurrency: int = _setting(
        max(1, (os.cpu_count() or 2) // 2),
        "Uploads inspected and images re-encoded at once per process, off the event loop"
        " (default: half the CPU cores); more wait their turn.",
    )
    unclaimed_upload_hours: int = _setting(
        24,
        "Hours an upload no message has taken up is kept; then `frontdesk retention` removes"
        " it (0: kept).",
    )
    list_count_cap: int = _setting(
        10_000,
        "Most conversations or contacts a list counts exactly; above it the list answers this"
        " count with countCapped (0: always exact, which reads the whole history on every"
        " page).",
    )
    presence_grace_seconds: float = _setting(
        60.0,
        "Seconds after an agent's last dashboard connection closes before the server makes it"
        " unavailable (available again when it returns); 0: never.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment is read by from_env only, from the mapping it is given.
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``FRONTDESK_*`` variables; ``overrides`` win over the environment.

        Raises ConfigurationError when a value cannot be parsed or is unsafe.
        """
        values = dict(_EnvironmentSource(cls, os.environ if environ is None else environ)())
        values.update(overrides)
        try:
            return cls(**values)
        except ValidationError as error:
            raise _configuration_error(error, values) from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied, checked as from_env checks."""
        return type(self)(**{**self._values(), **changes})

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in type(self).model_fields}

    @model_validator(mode="after")
    def _refuse_unsafe_values(self) -> Settings:
        self._check()
        return self

    def _check(self) -> None:
        weak = self.secret.lower() in _PLACEHOLDER_SECRETS or len(self.secret) < _MIN_SECRET_LENGTH
        if self.secret and weak:
            raise ConfigurationError(
                "FRONTDESK_SECRET is a placeholder or shorter than 32 characters; set a long "
                "random value (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                " or leave it unset to have one generated and kept in the data dir."
            )
        if self.database_url and not self.database_url.startswith(
            ("sqlite:", "postgresql:", "postgres:")
        ):
            raise ConfigurationError(
                "FRONTDESK_DATABASE_URL must start with sqlite: or postgresql:"
            )
        for name in (
            "agent_token_ttl",
            "visitor_token_ttl",
            "port",
            "max_body_bytes",
            "ws_heartbeat_interval",
            "ws_send_queue",
            "ws_max_frame_bytes",
            "ws_frame_rate",
            "ws_frame_burst",
            "invitation_ttl",
            "redis_resubscribe_delay",
            "ws_send_queue_bytes",
            "ws_snapshot_bytes",
            "ws_sockets_per_session",
            "jwks_fetch_timeout",
            "jwks_fetches_per_project",
            "jwks_fetches_total",
            "http_max_header_bytes",
            "http_header_timeout",
            "http_body_idle_timeout",
            "http_keep_alive_timeout",
            "http_max_connections",
            "password_hash_concurrency",
            "shutdown_timeout",
            "ready_timeout",
            "database_pool_size",
            "max_upload_bytes",
            "max_image_pixels",
            "file_url_ttl",
            "file_inspection_concurrency",
        ):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"FRONTDESK_{name.upper()} must be positive")
        if self.presence_grace_seconds < 0:
            raise ConfigurationError("FRONTDESK_PRESENCE_GRACE_SECONDS must be 0 or more")
        if self.list_count_cap < 0:
            raise ConfigurationError("FRONTDESK_LIST_COUNT_CAP must be 0 or more")
        if self.ws_sockets_per_address < 0:
            raise ConfigurationError("FRONTDESK_WS_SOCKETS_PER_ADDRESS must be 0 or more")
        if self.ws_snapshot_bytes > self.ws_send_queue_bytes:
            raise ConfigurationError(
                "FRONTDESK_WS_SNAPSHOT_BYTES must not exceed FRONTDESK_WS_SEND_QUEUE_BYTES,"
                " or a subscribe would overflow the queue it is sent through"
            )

        TrustedProxies.parse(self.trusted_proxies)
        if self.log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
            raise ConfigurationError(
                "FRONTDESK_LOG_LEVEL must be debug, info, warning, error or critical"
            )
        if self.log_format not in ("text", "json"):
            raise ConfigurationError("FRONTDESK_LOG_FORMAT must be text or json")
        if self.http_max_connections_per_ip < 0:
            raise ConfigurationError("FRONTDESK_HTTP_MAX_CONNECTIONS_PER_IP must not be negative")
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in ("smtp", "smtps"):
            raise ConfigurationError("FRONTDESK_SMTP_URL must start with smtp:// or smtps://")
        if self.smtp_url and not self.smtp_from:
            raise ConfigurationError("FRONTDESK_SMTP_FROM must be set with FRONTDESK_SMTP_URL")
        if self.smtp_starttls not in ("auto", "require", "off"):
            raise ConfigurationError("FRONTDESK_SMTP_STARTTLS must be auto, require or off")
        for name in ("smtp_timeout", "email_code_ttl", "email_code_attempts",
                     "continuity_link_ttl", "outbox_poll_interval", "outbox_max_attempts"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"FRONTDESK_{name.upper()} must be positive")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name in _SECRET_SETTINGS and value:
                yield name, _HIDDEN
            elif name in _URL_SETTINGS and value:
                yield name, _without_password(value)
            else:
                yield name, value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'frontdesk.db'}"

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    def with_secret(self) -> Settings:
        """Settings whose secret is set: the configured one, else the data dir's, else a new one.

        A generated secret is written to ``<data_dir>/secret.key`` (mode 600) so restarts keep
        every issued token valid. Processes starting together on a new data dir agree on one:
        the file appears whole or not at all, and the first to publish it wins.
        """
        if self.secret:
            return self
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            _publish_once(path, secrets.token_urlsafe(48) + "\n")
        stored = path.read_text().strip()
        if not stored:  # an empty key would sign sessions anyone could forge
            raise ConfigurationError(
                f"{path} is empty: restore it from a backup, or delete it to have a new secret"
                " generated (every session and signed link issued so far stops working)"
            )
        return self.replace(secret=stored)


def _publish_once(path: Path, text: str) -> None:
    """Write ``path`` (mode 600) unless it exists, never leaving it partly written.

    The text goes to a file of this process's own first, which is then linked under the
    final name: the link fails if another process published first, and theirs is kept.
    """
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.unlink(draft)


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting, for ``frontdesk settings`` and the docs."""
    return [
        (_ENV_PREFIX + name.upper(), str(field.default), field.description or "")
        for name, field in Settings.model_fields.items()
    ]


class _EnvironmentSource(EnvSettingsSource):
    """The ``FRONTDESK_*`` variables of one mapping: ``os.environ`` or the one a test gives."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items() if value != ""}


def _configuration_error(error: ValidationError, values: Mapping[str, Any]) -> ConfigurationError:
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    field = Settings.model_fields.get(name)
    if field is None:
        return ConfigurationError(f"unknown setting {name!r}")
    kind = getattr(field.annotation, "__name__", str(field.annotation))
    shown = _HIDDEN if name in _SECRET_SETTINGS | _URL_SETTINGS else repr(values.get(name))
    return ConfigurationError(f"{_ENV_PREFIX}{name.upper()}={shown} is not a valid {kind}")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:" if parts.username else ":"
    return urlunsplit(parts._replace(netloc=f"{user}{_HIDDEN}@{host}"))
