"""Recently read projects, agents' memberships, projects' live keys, default departments and
available agents, so a call into a project skips those reads (``actions.access.load_project``
and ``access_project``), a customer-token sign-in skips reading the keys
(``actions.keys.verification_keys``) and a first message the default department
(``actions.departments.default_department``) and the agents routing chooses from
(``actions.routing.pick_agent``).

An entry lives ``ttl`` seconds at most. Every committed write of a cached row evicts it at
once: ``Services.project_changed_on_commit`` evicts in the writing process when the write
commits and publishes ``ProjectChanged``, on which every other process evicts; ``ttl`` bounds
how long an entry could outlive a change a broker failed to deliver. While the broker has lost
its link to the other processes the cache is ``suspend``ed — emptied, and every call reads the
database — until ``resume`` once the link is back, as ``SessionCache`` is.

A read that started before an eviction must not put back what it read: ``generation`` is
taken before the read and ``put_*`` stores nothing if any eviction happened since.

Entries are kept as JSON bytes and decoded on every ``get``: each caller receives its own
dicts, which it may change without changing what the next caller receives.
Only agents' memberships (owner, admin, agent) are cached; visitors' never are, so their
writes (one at every visitor sign-in) need not evict anything.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson

from frontdesk.auth.principals import ROLE_RANK
from frontdesk.clock import Clock
from frontdesk.storage.departments import DepartmentRecord
from frontdesk.storage.keys import KeyRecord
from frontdesk.storage.project_users import ProjectUserRecord, RoutingCandidate
from frontdesk.storage.projects import ProjectRecord

# The project's own row is cached under (project id, this), its live keys under (project id,
# _KEY_ROWS), its default department under (project id, _DEFAULT_DEPARTMENT), its available
# agents under (project id, _AVAILABLE_AGENTS); a membership under (project id, the agent's
# user id), which is none of them (user ids are object ids or visitor ids, never empty and
# never holding a NUL).
_PROJECT_ROW = ""
_KEY_ROWS = "\x00keys"
_DEFAULT_DEPARTMENT = "\x00default department"
_AVAILABLE_AGENTS = "\x00available agents"
_PROJECT_WIDE = (_PROJECT_ROW, _KEY_ROWS, _DEFAULT_DEPARTMENT, _AVAILABLE_AGENTS)


class ProjectCache:
    def __init__(self, clock: Clock, *, ttl: float, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        # (project id, user id or _PROJECT_ROW) -> (the record as JSON, valid until)
        self._entries: OrderedDict[tuple[str, str], tuple[bytes, float]] = OrderedDict()
        self._suspended = False
        self._generation = 0

    @property
    def generation(self) -> int:
        """Taken before a read whose result is then ``put``: it changes with every eviction."""
        return self._generation

    def project(self, project_id: str) -> ProjectRecord | None:
        return cast("ProjectRecord | None", self._get((project_id, _PROJECT_ROW)))

    def membership(self, project_id: str, user_id: str) -> ProjectUserRecord | None:
        """The agent's cached membership; None when not cached (never: not a member)."""
        return cast("ProjectUserRecord | None", self._get((project_id, user_id)))

    def keys(self, project_id: str) -> list[KeyRecord] | None:
        """The project's key rows as ``storage.keys.live_keys`` read them, or None."""
        return cast("list[KeyRecord] | None", self._get((project_id, _KEY_ROWS)))

    def default_department(self, project_id: str) -> DepartmentRecord | None:
        """The project's default department; None when not cached."""
        return cast("DepartmentRecord | None", self._get((project_id, _DEFAULT_DEPARTMENT)))

    def available_agents(self, project_id: str) -> list[RoutingCandidate] | None:
        """The project's available agents as ``project_users.available_agents`` reads them,
        or None."""
        return cast("list[RoutingCandidate] | None", self._get((project_id, _AVAILABLE_AGENTS)))

    async def read_keys(
        self, project_id: str, read: Callable[[], Awaitable[list[KeyRecord]]]
    ) -> list[KeyRecord]:
        """The project's key rows: cached, or ``read()`` and kept (``_read_through``)."""
        return cast("list[KeyRecord]", await self._read_through((project_id, _KEY_ROWS), read))

    async def read_default_department(
        self, project_id: str, read: Callable[[], Awaitable[DepartmentRecord | None]]
    ) -> DepartmentRecord | None:
        """The project's default department: cached, or ``read()`` and kept."""
        key = (project_id, _DEFAULT_DEPARTMENT)
        return cast("DepartmentRecord | None", await self._read_through(key, read))

    async def read_available_agents(
        self, project_id: str, read: Callable[[], Awaitable[list[RoutingCandidate]]]
    ) -> list[RoutingCandidate]:
        """The project's available agents: cached, or ``read()`` and kept."""
        key = (project_id, _AVAILABLE_AGENTS)
        return cast("list[RoutingCandidate]", await self._read_through(key, read))

    async def _read_through(
        self, key: tuple[str, str], read: Callable[[], Awaitable[Any]]
    ) -> object | None:
        """The entry under ``key``, or on a miss what ``read()`` returns, kept unless None.
        The generation is taken before the read, so a read that an eviction overtook is
        returned but not kept."""
        cached = self._get(key)
        if cached is not None:
            return cached
        generation = self._generation
        value = await read()
        if value is not None:
            self._put(key, orjson.dumps(value), generation)
        return cast(object, value)

    def put_project(self, project: ProjectRecord, *, generation: int) -> None:
        self._put((project["id"], _PROJECT_ROW), orjson.dumps(project), generation)

    def put_membership(self, membership: ProjectUserRecord, *, generation: int) -> None:
        """Cache an agent's membership; a visitor's, or one read before an eviction, is not."""
        if membership["role"] in ROLE_RANK and membership["user_id"] != _PROJECT_ROW:
            key = (membership["project_id"], membership["user_id"])
            self._put(key, orjson.dumps(membership), generation)

    def evict(self, project_id: str, user_id: str | None = None) -> None:
        """Forget the project's row, keys, default department and available agents, or with
        ``user_id`` that user's membership and the available agents (which it may be among,
        or join)."""
        self._generation += 1
        if user_id is None:
            for kind in _PROJECT_WIDE:
                self._entries.pop((project_id, kind), None)
        else:
            self._entries.pop((project_id, user_id), None)
            self._entries.pop((project_id, _AVAILABLE_AGENTS), None)

    def suspend(self) -> None:
        """Forget everything and cache nothing until ``resume``."""
        self._suspended = True
        self.clear()

    def resume(self) -> None:
        """Cache again, from empty: entries made before may have missed changes."""
        self.clear()
        self._suspended = False

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    def _get(self, key: tuple[str, str]) -> object | None:
        if self._ttl <= 0 or self._suspended:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        encoded, valid_until = entry
        if self._clock.now() >= valid_until:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        decoded: object = orjson.loads(encoded)
        return decoded

    def _put(self, key: tuple[str, str], encoded: bytes, generation: int) -> None:
        if self._ttl <= 0 or self._suspended or generation != self._generation:
            return
        self._entries[key] = (encoded, self._clock.now() + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
