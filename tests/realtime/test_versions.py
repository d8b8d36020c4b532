"""Late events of a conversation are dropped: subscribers see its states in commit order."""

from __future__ import annotations

from frontdesk.realtime.versions import LatestVersions


def test_an_event_older_than_one_delivered_is_stale() -> None:
    latest = LatestVersions()
    assert not latest.is_stale("rid", 3)
    assert latest.is_stale("rid", 2)  # committed before 3, arrived after it
    assert not latest.is_stale("rid", 3)  # the same committed state again
    assert not latest.is_stale("rid", 4)
    assert not latest.is_stale("other", 1)  # versions count per conversation


def test_only_the_most_recently_changed_conversations_are_remembered() -> None:
    latest = LatestVersions(capacity=2)
    latest.is_stale("a", 5)
    latest.is_stale("b", 5)
    latest.is_stale("a", 6)  # a is now the most recent
    latest.is_stale("c", 1)  # b, the least recent, is forgotten
    assert latest.is_stale("a", 5)
    assert not latest.is_stale("b", 1)
