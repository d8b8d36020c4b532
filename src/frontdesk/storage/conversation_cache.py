"""``ConversationCache``: the conversations this process's visitors wrote in lately, as stored.

A visitor's message into its open conversation needs the conversation (to check that it is
the visitor's and open, and to answer with it and announce it) and then writes it. With a copy
kept from the visitor's previous message the read is skipped: the write itself checks that
the copy is still what is stored (``requests.append_message`` with ``joined``: the same
version and requester, the same requester's membership and lead), and writes nothing if not,
so a copy that is out of date — another process or an agent changed the conversation, an
agent edited the contact — costs a second try, never a wrong answer.

Kept only once the write committed (a version never committed could be reached again by
other writes); dropped when this process learns of a newer version (``evict_older``, from
the realtime events every process receives), so that the next message reads the
conversation instead of failing against it. At most ``CONVERSATIONS_KEPT``, the least
recently written dropped first. Copies are kept as stored (JSON as text) and decoded for each
use, so no caller shares objects it may change with another; with each, the conversation as
presented to clients, which the next message's answer and event share and nobody changes
(a message presents only the fields it changes). Erasing a contact drops its conversations
from the process that erased it (the others drop them as they are written or pushed out).
"""

from __future__ import annotations

from collections import OrderedDict

from frontdesk.storage.requests import StoredConversation

# About 16 MB at most: a conversation's row with its requester and lead is 1 to 3 KB as
# stored, its presentation about 5 KB more (measured with tracemalloc).
CONVERSATIONS_KEPT = 2_048


class ConversationCache:
    def __init__(self, size: int = CONVERSATIONS_KEPT) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[str, str], StoredConversation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, project_id: str, request_id: str) -> StoredConversation | None:
        return self._kept.get((project_id, request_id))

    def put(self, conversation: StoredConversation) -> None:
        """Keep ``conversation`` (as committed), unless a newer version is kept already."""
        key = conversation.key
        kept = self._kept.get(key)
        if kept is not None and kept.version > conversation.version:
            return
        self._kept[key] = conversation
        self._kept.move_to_end(key)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def evict(self, project_id: str, request_id: str) -> None:
        self._kept.pop((project_id, request_id), None)

    def evict_lead(self, project_id: str, lead_ref: str) -> None:
        """Forget every conversation kept with the lead ``lead_ref`` (an erased contact's
        data leaves this process's memory with it)."""
        for key in [key for key, kept in self._kept.items()
                    if key[0] == project_id and kept.stored.get("lead__id") == lead_ref]:
            del self._kept[key]

    def evict_older(self, project_id: str, request_id: str, version: int) -> None:
        """Forget the conversation if the copy kept is older than ``version``."""
        kept = self._kept.get((project_id, request_id))
        if kept is not None and kept.version < version:
            del self._kept[(project_id, request_id)]
