"""An agent's notification choices in a project, kept on the server."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.models import closed

KINDS = ("desktop", "sound", "title")


@closed
class NotificationPrefsPublic(TypedDict):
    """What the dashboard does, while hidden, for a conversation the agent may take or a
    visitor's message in one of its own. Each is on unless turned off."""

    desktop: Annotated[bool, Field(description="A desktop notification")]
    sound: Annotated[bool, Field(description="A short sound")]
    title: Annotated[bool, Field(description="The count in the page title")]


def present_prefs(stored: dict[str, Any]) -> NotificationPrefsPublic:
    return {
        "desktop": stored.get("desktop", True) is not False,
        "sound": stored.get("sound", True) is not False,
        "title": stored.get("title", True) is not False,
    }
