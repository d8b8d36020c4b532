"""The newest version heard of each recently changed conversation, to drop late events.

Two commands on one conversation commit in some order, but their events travel separately
(two commit hooks, two processes, Redis): the later one can arrive first. Each RequestChanged
carries the version its change committed; one older than a version already heard is stale
and is not delivered, so subscribers see a conversation's states in commit order.
"""

from __future__ import annotations

from collections import OrderedDict

# Events overtake one another by milliseconds; remembering the most recently changed
# conversations is enough, and bounds the memory.
CAPACITY = 10_000


class LatestVersions:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._latest: OrderedDict[str, int] = OrderedDict()

    def is_stale(self, key: str, version: int) -> bool:
        """True when a newer version of ``key`` was heard already; otherwise remember this one.

        An equal version is the same committed state again, not stale.
        """
        latest = self._latest.get(key)
        if latest is not None and version < latest:
            return True
        self._latest[key] = version
        self._latest.move_to_end(key)
        if len(self._latest) > self._capacity:
            self._latest.popitem(last=False)
        return False
