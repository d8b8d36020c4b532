"""Trust tiers on the wire: availability for the widget, e-mail codes, verification requests,
continuity links."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.models import AlwaysTrue, closed
from frontdesk.models.messages import MessagePublic
from frontdesk.models.requests import VerificationRequestPublic

TierField = Annotated[str, Field(description="anonymous, email_verified or authenticated")]


@closed
class EmailDeliveryPublic(TypedDict):
    available: Annotated[bool, Field(description="Whether this server can send e-mail")]
    reason: Annotated[str | None, Field(
        description="Why not (smtp_not_configured), or null when it can"
    )]


@closed
class AvailabilityDepartmentPublic(TypedDict):
    _id: Annotated[str, Field(description="Department id (24 hex)")]
    name: Annotated[str, Field(description="Its name")]
    minTier: TierField


@closed
class AvailabilityPublic(TypedDict):
    """What the widget says before a visitor writes: open or not, who is there, how soon."""

    isopen: Annotated[bool, Field(description="Within opening hours (the department's if set)")]
    availableAgents: Annotated[int, Field(description="Agents available now (of the department)")]
    expectedReplyMinutes: Annotated[int | None, Field(
        description="Usual reply time while open with agents available; null otherwise"
    )]
    nextOpenAt: Annotated[str | None, Field(
        description="ISO 8601 UTC of the next opening when closed (within a week), else null"
    )]
    offHoursMessage: Annotated[str | None, Field(
        description="The message a conversation opened now gets (when closed), else null"
    )]
    department: Annotated[AvailabilityDepartmentPublic | None, Field(
        description="The department asked about, or the default one"
    )]
    minTier: TierField
    emailDelivery: Annotated[EmailDeliveryPublic, Field(
        description="Whether e-mail codes and reply e-mails can be sent"
    )]


@closed
class EmailCodeSentPublic(TypedDict):
    success: AlwaysTrue
    email: Annotated[str, Field(description="The address the code went to (normalised)")]
    expiresAt: Annotated[str, Field(description="ISO 8601 UTC: the code is refused after")]
    codeLength: Annotated[int, Field(description="Digits in the code (6)")]
    attempts: Annotated[int, Field(description="Wrong guesses allowed before it locks")]


@closed
class EmailVerifiedPublic(TypedDict):
    success: AlwaysTrue
    tier: TierField
    email: Annotated[str, Field(description="The address now proven")]
    verifiedAt: Annotated[str, Field(description="ISO 8601 UTC")]
    senderAuthInfo: Annotated[dict[str, Any], Field(
        description="The session's senderAuthInfo now (sign_in_provider email_code)"
    )]
    requests: Annotated[list[str], Field(
        description="request_id of each open conversation whose identity was upgraded"
    )]


@closed
class VerificationRequestCreatedPublic(VerificationRequestPublic):
    request_id: Annotated[str, Field(description="The conversation")]
    message: Annotated[MessagePublic, Field(description="The system line both sides see")]
