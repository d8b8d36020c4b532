"""``ContactHints``: the customers this process last signed in who had a contact (lead), and
the contacts it last wrote for them.

A returning customer signs in one of two ways, each a write that checks what it finds and
writes nothing when the customer is not as it expects (``actions.visitors``): one for a
customer without a contact, one that reads the contact and brings it up to date. Trying the
first costs a customer with a contact a statement that matches nothing (on PostgreSQL a round
trip) before the second; a hint kept from its previous sign-in goes to the second at once. A
hint out of date (the contact erased by another process) costs that statement back, never a
wrong sign-in. At most ``CUSTOMERS_KEPT``, the least recently used dropped first; erasing a
contact drops its hint from the process that erased it.

The contact as the last sign-in wrote it (``KeptContact``, kept once that sign-in committed)
spares the next one its read: its write checks that the columns a sign-in writes are still
as kept, as it checks a contact it has just read, and writes nothing if not (an agent's edit,
a merge, another process's sign-in, an erasure); the contact is then read and written again.
A copy out of date costs a statement, never a wrong contact. At most ``CONTACTS_KEPT``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple, TypeVar

from frontdesk.storage.database import Row

# Under a megabyte: a hint is a project id and a customer id.
CUSTOMERS_KEPT = 10_000
# A few MB at most: a contact's row, its senderAuthInfo included, is 1 to 2 KB.
CONTACTS_KEPT = 2_048

_V = TypeVar("_V")


class KeptContact(NamedTuple):
    member_id: str  # the customer's membership
    stored: Row  # its lead as written (JSON columns as text)


class ContactHints:
    def __init__(self, size: int = CUSTOMERS_KEPT, contacts: int = CONTACTS_KEPT) -> None:
        self._size = size
        self._contacts = contacts
        self._kept: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._written: OrderedDict[tuple[str, str], KeptContact] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def has_contact(self, project_id: str, user_id: str) -> bool:
        return (project_id, user_id) in self._kept

    def remember(self, project_id: str, user_id: str) -> None:
        _use(self._kept, (project_id, user_id), None, self._size)

    def written(self, project_id: str, user_id: str) -> KeptContact | None:
        """The customer's contact as this process last wrote it, if it is still kept."""
        return self._written.get((project_id, user_id))

    def keep(self, project_id: str, user_id: str, contact: KeptContact) -> None:
        """Keep ``contact`` as written by a sign-in that committed (a hint too)."""
        self.remember(project_id, user_id)
        _use(self._written, (project_id, user_id), contact, self._contacts)

    def drop_written(self, project_id: str, user_id: str) -> None:
        self._written.pop((project_id, user_id), None)

    def forget(self, project_id: str, user_id: str) -> None:
        self._kept.pop((project_id, user_id), None)
        self.drop_written(project_id, user_id)


def _use(kept: OrderedDict[tuple[str, str], _V], key: tuple[str, str], value: _V,
         size: int) -> None:
    kept[key] = value
    kept.move_to_end(key)
    if len(kept) > size:
        kept.popitem(last=False)
