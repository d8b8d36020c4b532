"""The long-lived parts every action needs, built once by ``create_app``."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field

import anyio

from frontdesk.actions.limits import RateLimits
from frontdesk.auth.basic_cache import BasicCredentialCache
from frontdesk.auth.file_urls import FileUrlSigner
from frontdesk.auth.jwks_fetch import fetch_jwks
from frontdesk.auth.list_cursors import ListCursors
from frontdesk.auth.passwords import Passwords
from frontdesk.auth.principals import Agent, Principal
from frontdesk.auth.project_cache import ProjectCache
from frontdesk.auth.public_keys import JwksCache, jwks_fetch_policy
from frontdesk.auth.secret_box import SecretBox
from frontdesk.auth.session_cache import SessionCache
from frontdesk.auth.tokens import SessionTokens
from frontdesk.clock import Clock
from frontdesk.ids import IdGenerator
from frontdesk.mail import Mailer, mailer_for
from frontdesk.observability.metrics import Metrics
from frontdesk.realtime.broker import Broker
from frontdesk.realtime.events import (
    AccessChanged,
    Event,
    MembershipRevoked,
    ProjectChanged,
    RequestChanged,
    SessionRevoked,
    check_event,
)
from frontdesk.realtime.visitor_presence import VisitorPresence
from frontdesk.settings import Settings
from frontdesk.storage.contact_hints import ContactHints
from frontdesk.storage.conversation_cache import ConversationCache
from frontdesk.storage.database import Database, Transaction
from frontdesk.storage.files import DatabaseBlobs, DirectoryBlobs, blob_store


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    ids: IdGenerator
    tokens: SessionTokens
    passwords: Passwords
    secret_box: SecretBox
    broker: Broker
    metrics: Metrics
    # Per-process state built from the settings and the clock.
    limits: RateLimits = field(init=False)
    jwks: JwksCache = field(init=False)
    session_cache: SessionCache = field(init=False)
    project_cache: ProjectCache = field(init=False)
    # Conversations its visitors wrote in lately, as stored (their next message skips a read).
    conversations: ConversationCache = field(init=False, default_factory=ConversationCache)
    # Customers it signed in lately who had a contact (their next sign-in goes to it at once).
    contact_hints: ContactHints = field(init=False, default_factory=ContactHints)
    basic_cache: BasicCredentialCache = field(init=False)
    blobs: DirectoryBlobs | DatabaseBlobs = field(init=False)  # the bytes of files
    file_urls: FileUrlSigner = field(init=False)
    list_cursors: ListCursors = field(init=False)  # the conversation list's page cursors
    file_inspections: anyio.CapacityLimiter = field(init=False)  # uploads inspected at once
    mailer: Mailer = field(init=False)
    visitor_presence: VisitorPresence = field(init=False)
    # Set when an e-mail is queued, so this process's outbox worker looks at once.
    outbox_wakeup: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.limits = RateLimits(self.settings)
        self.mailer = mailer_for(self.settings)
        self.visitor_presence = VisitorPresence(
            self.clock, self.settings.redis_url, namespace=self.settings.redis_channel
        )
        self.session_cache = SessionCache(self.clock, ttl=self.settings.session_cache_seconds)
        self.project_cache = ProjectCache(self.clock, ttl=self.settings.project_cache_seconds)
        self.basic_cache = BasicCredentialCache(
            self.clock, self.settings.secret, ttl=self.settings.basic_auth_cache_seconds
        )
        self.blobs = blob_store(self.db, self.settings.data_dir)
        self.file_urls = FileUrlSigner(self.settings.secret)
        self.list_cursors = ListCursors(self.settings.secret)
        self.file_inspections = anyio.CapacityLimiter(self.settings.file_inspection_concurrency)
        # Before the hub's: a socket re-checked on an event reads what the event changed.
        self.broker.subscribe(self._evict_on_event)
        self.broker.watch_link(self._on_broker_link)
        self.jwks = JwksCache(
            self.clock,
            ttl=self.settings.jwks_cache_seconds,
            min_refetch=self.settings.jwks_min_refetch_seconds,
            fetch=functools.partial(fetch_jwks, policy=jwks_fetch_policy(self.settings)),
            per_project=self.settings.jwks_fetches_per_project,
            total=self.settings.jwks_fetches_total,
        )

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def publish_on_commit(self, tx: Transaction, event: Event) -> None:
        """Send ``event`` to the broker once ``tx`` has committed, never before."""
        if self.settings.check_responses:
            check_event(event)

        async def send() -> None:
            # At once in this process; other processes evict when the broker delivers it.
            self._evict(event)
            await self.broker.publish(event)

        tx.on_commit(send)

    def project_changed_on_commit(
        self, tx: Transaction, project_id: str, user_id: str | None = None
    ) -> None:
        """Once ``tx`` commits, every process forgets its cached copy of the project's row and
        keys, or with ``user_id`` of that agent's membership. Every write of any of them calls
        this (a visitor's membership excepted: it is never cached); registered right after the
        write, so that the events the same transaction publishes later find the cache evicted."""
        self.publish_on_commit(tx, ProjectChanged(project_id=project_id, user_id=user_id))

    async def _evict_on_event(self, event: Event) -> None:
        self._evict(event)

    def _evict(self, event: Event) -> None:
        if isinstance(event, RequestChanged):
            self.conversations.evict_older(event.project_id, event.request_id, event.version)
        elif isinstance(event, SessionRevoked):
            self.session_cache.evict(event.jti)
        elif isinstance(event, ProjectChanged | MembershipRevoked):
            self.project_cache.evict(event.project_id, event.user_id)
        elif isinstance(event, AccessChanged):
            self.project_cache.evict(event.project_id)

    async def _on_broker_link(self, linked: bool) -> None:
        # Unlinked, revocations and changes made by other processes cannot reach this one:
        # verify every session and read every project and membership from the database until
        # the link is back.
        if linked:
            self.session_cache.resume()
            self.project_cache.resume()
        else:
            self.session_cache.suspend()
            self.project_cache.suspend()

    def wake_outbox_on_commit(self, tx: Transaction) -> None:
        """Have this process's outbox worker look at the outbox once ``tx`` commits."""

        async def wake() -> None:
            self.outbox_wakeup.set()

        tx.on_commit(wake)

    def publish_session_revoked(self, tx: Transaction, principal: Principal, jti: str) -> None:
        """Tell every process that sockets authenticated with ``jti`` must close."""
        project_id = None if isinstance(principal, Agent) else principal.project_id
        self.publish_on_commit(tx, SessionRevoked(project_id=project_id, jti=jti))
