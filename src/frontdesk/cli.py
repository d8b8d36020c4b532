"""The ``frontdesk`` command: serve, migrate, retention, backup, create-agent, sign-token,
settings."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt

from frontdesk.errors import ConfigurationError, FrontdeskError
from frontdesk.settings import Settings, describe


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="frontdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="create and print the demo project")

    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser(
        "retention", help="erase anonymous contacts idle past their project's retention rule"
    )
    commands.add_parser("settings", help="list the settings and their environment variables")
    backup = commands.add_parser(
        "backup", help="copy the SQLite database to FILE while the server runs (PostgreSQL:"
        " use pg_dump)"
    )
    backup.add_argument("file", type=Path)

    agent = commands.add_parser("create-agent", help="create an agent account")
    agent.add_argument("email")
    agent.add_argument("password")
    agent.add_argument("--firstname", default="")
    agent.add_argument("--lastname", default="")

    token = commands.add_parser(
        "sign-token", help="sign a visitor token with a project secret (as a customer backend)"
    )
    token.add_argument("--project", required=True)
    token.add_argument("--secret", required=True)
    token.add_argument("--kid")
    token.add_argument("--id", required=True, dest="visitor_id")
    token.add_argument("--email")
    token.add_argument("--firstname")
    token.add_argument("--lastname")
    token.add_argument("--ttl", type=int, default=600)

    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (ConfigurationError, FrontdeskError) as exc:
        print(f"frontdesk: {exc.message}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "settings":
        for name, default, help_text in describe():
            print(f"{name:36} {default!s:28} {help_text}")
        return 0
    if args.command == "sign-token":
        print(sign_customer_token(args))
        return 0
    if args.command == "backup":
        from frontdesk.storage.backup import backup_database

        pages = backup_database(Settings.from_env().effective_database_url, args.file)
        print(f"backed up {pages} pages to {args.file}")
        return 0
    overrides: dict[str, Any] = {}
    if args.command == "serve":
        if args.host:
            overrides["host"] = args.host
        if args.port:
            overrides["port"] = args.port
        if args.demo:
            overrides["demo"] = True
    settings = Settings.from_env(**overrides).with_secret()
    if args.command == "migrate":
        applied = asyncio.run(_migrate(settings))
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
        return 0
    if args.command == "retention":
        counts = asyncio.run(_retention(settings))
        print(f"erased {counts['leads']} anonymous contacts, {counts['requests']} conversations;"
              f" forgot {counts['tokenIds']} expired token ids and {counts['files']} unsent"
              " uploads")
        return 0
    if args.command == "create-agent":
        asyncio.run(_create_agent(settings, args))
        print(f"created agent {args.email}")
        return 0
    return _serve(settings, args.workers)


def sign_customer_token(args: argparse.Namespace) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "_id": args.visitor_id,
        "sub": "userexternal",
        "aud": f"https://tiledesk.com/projects/{args.project}",
        "iat": now,
        "exp": now + args.ttl,
    }
    for name in ("email", "firstname", "lastname"):
        if getattr(args, name):
            claims[name] = getattr(args, name)
    headers = {"kid": args.kid} if args.kid else None
    return jwt.encode(claims, args.secret, algorithm="HS256", headers=headers)


async def _migrate(settings: Settings) -> list[str]:
    from frontdesk.storage.database import open_database
    from frontdesk.storage.migrate import migrate

    db = await open_database(settings.effective_database_url)
    try:
        return await migrate(db)
    finally:
        await db.close()


async def _create_agent(settings: Settings, args: argparse.Namespace) -> None:
    from frontdesk.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        from frontdesk.actions.accounts import do_create_account

        await do_create_account(app.state.services, email=args.email, password=args.password,
                        firstname=args.firstname, lastname=args.lastname)


async def _retention(settings: Settings) -> dict[str, int]:
    from frontdesk.actions.retention import do_apply_retention
    from frontdesk.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return await do_apply_retention(app.state.services)


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse several workers without Redis: each would hold its own sockets and session cache
    and never hear the others' revocations (a signed-out session would keep working there).
    Raises ConfigurationError."""
    if workers < 1:
        raise ConfigurationError("--workers must be at least 1")
    if workers > 1 and not settings.redis_url:
        raise ConfigurationError(
            f"--workers {workers} needs FRONTDESK_REDIS_URL: worker processes share sign-outs,"
            " access changes and realtime events only through Redis. Set it, or run one worker."
        )


def _serve(settings: Settings, workers: int) -> int:
    import os

    import uvicorn

    check_workers(settings, workers)
    from frontdesk.observability.logs import configure_logging
    from frontdesk.server import raise_open_file_limit, uvicorn_options

    configure_logging(settings.log_level, settings.log_format)
    raise_open_file_limit(settings)
    # The app, in this process or a worker, reads its settings from the environment as this
    # command did; only the command-line options have to be added there. The secret never is:
    # it stays where the operator put it (environment or data dir), and the app reads it there.
    for name in ("host", "port", "demo"):
        os.environ["FRONTDESK_" + name.upper()] = str(getattr(settings, name))
    uvicorn.run(
        "frontdesk.asgi:app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=None,  # every process logs through configure_logging, in one format
        **uvicorn_options(settings),
    )
    return 0
