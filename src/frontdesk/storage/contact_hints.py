"""``ContactHints``: the customers this process last signed in who had a contact (lead).

A returning customer signs in one of two ways, each a write that checks what it finds and
writes nothing when the customer is not as it expects (``actions.visitors``): one for a
customer without a contact, one that reads the contact and brings it up to date. Trying the
first costs a customer with a contact a statement that matches nothing (on PostgreSQL a round
trip) before the second; a hint kept from its previous sign-in goes to the second at once. A
hint out of date (the contact erased by another process) costs that statement back, never a
wrong sign-in. At most ``CUSTOMERS_KEPT``, the least recently used dropped first; erasing a
contact drops its hint from the process that erased it.
"""

from __future__ import annotations

from collections import OrderedDict

# Under a megabyte: a hint is a project id and a customer id.
CUSTOMERS_KEPT = 10_000


class ContactHints:
    def __init__(self, size: int = CUSTOMERS_KEPT) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def has_contact(self, project_id: str, user_id: str) -> bool:
        return (project_id, user_id) in self._kept

    def remember(self, project_id: str, user_id: str) -> None:
        key = (project_id, user_id)
        self._kept[key] = None
        self._kept.move_to_end(key)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def forget(self, project_id: str, user_id: str) -> None:
        self._kept.pop((project_id, user_id), None)
