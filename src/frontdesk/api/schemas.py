"""Request bodies, query strings and responses, named as families (``LeadUpdate``,
``LeadPublic``, ``LeadsPublic``). The OpenAPI document is generated from these models, and the
same models validate what comes in (and, in tests, what goes out).

The public shape of each entity lives in ``frontdesk.models`` with its presenter; those an
endpoint declares are named here too (the shapes nested inside them are not). The envelopes
around them (pages, sign-in answers…) are declared below. Every one is closed: a field not
declared here is an error when answers are checked."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from frontdesk.jsonutil import dumpb, json_depth
from frontdesk.models import AlwaysTrue, CappedCount, CountCapped, SameAsId, closed
from frontdesk.models.audit import AuditPublic
from frontdesk.models.canned import CannedFilledPublic, CannedPublic
from frontdesk.models.departments import DepartmentPublic
from frontdesk.models.exports import LeadExportPublic
from frontdesk.models.files import FilePublic, FileUploadedPublic
from frontdesk.models.invitations import (
    InvitationAcceptedPublic,
    InvitationPublic,
    InvitationWithdrawnPublic,
    InvitePublic,
)
from frontdesk.models.keys import KeyPublic
from frontdesk.models.leads import ErasurePublic, LeadPublic, LeadsPublic
from frontdesk.models.merges import MergeOutcomePublic, MergePublic
from frontdesk.models.messages import MessagePublic, MessageSentPublic
from frontdesk.models.project_users import AvailableAgentPublic, ProjectUserPublic
from frontdesk.models.projects import (
    IsOpenPublic,
    MembershipPublic,
    ProjectPublic,
    WidgetConfigPublic,
)
from frontdesk.models.ratings import RatingsPublic
from frontdesk.models.requests import (
    RequestInboxPublic,
    RequestPublic,
    RequestSeenPublic,
    RequestVisitorPublic,
)
from frontdesk.models.sessions import SessionPublic, SessionsRevokedPublic
from frontdesk.models.tags import TagPublic
from frontdesk.models.users import SigninPublic, SignupPublic

__all__ = [
    "AuditPublic", "AvailableAgentPublic", "CannedFilledPublic", "CannedPublic",
    "DepartmentPublic", "ErasurePublic", "FilePublic", "FileUploadedPublic",
    "InvitationAcceptedPublic", "InvitationPublic", "InvitationWithdrawnPublic",
    "InvitePublic", "IsOpenPublic", "KeyPublic", "LeadExportPublic", "LeadPublic",
    "LeadsPublic", "MembershipPublic", "MergePublic", "MessagePublic", "MessageSentPublic",
    "ProjectPublic", "ProjectUserPublic", "RatingsPublic", "RequestPublic", "RequestSeenPublic",
    "RequestVisitorPublic", "SessionPublic", "SessionsRevokedPublic", "SigninPublic",
    "SignupPublic", "TagPublic", "WidgetConfigPublic",
]

# Limits of every free-form JSON object a client stores (attributes, metadata, widget
# settings, …); docs/limits.md lists them with the error each one gives.
MAX_ATTRIBUTES = 100
MAX_OBJECT_DEPTH = 8
MAX_OBJECT_BYTES = 16 * 1024


def check_json_object(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` unchanged if it nests at most MAX_OBJECT_DEPTH levels and serialises to at most
    MAX_OBJECT_BYTES; a validation error of type ``object_too_deep`` / ``object_too_large``
    otherwise."""
    if json_depth(value) > MAX_OBJECT_DEPTH:
        raise PydanticCustomError(
            "object_too_deep",
            "nested deeper than {limit} levels",
            {"limit": MAX_OBJECT_DEPTH},
        )
    if len(dumpb(value)) > MAX_OBJECT_BYTES:
        raise PydanticCustomError(
            "object_too_large",
            "larger than {limit} bytes as JSON",
            {"limit": MAX_OBJECT_BYTES},
        )
    return value


JsonObject = Annotated[
    dict[str, Any],
    AfterValidator(check_json_object),
    Field(description=f"A JSON object of at most {MAX_OBJECT_DEPTH} levels and "
          f"{MAX_OBJECT_BYTES} bytes as JSON"),
]

ObjectId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]
ProjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Attributes = Annotated[JsonObject, Field(max_length=MAX_ATTRIBUTES)]
AgentRoleName = Literal["owner", "admin", "agent"]
WidgetOrigin = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=300, pattern=r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?/?$"
    ),
]
Kid = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]


class Body(BaseModel):
    """Incoming JSON: unknown fields are ignored (Tiledesk clients send extra ones)."""

    model_config = ConfigDict(extra="ignore")


class Public(BaseModel):
    """Outgoing JSON: exactly the declared fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---- auth ---------------------------------------------------------------------------------


class SignupCreate(Body):
    email: Email
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    firstname: Name = ""
    lastname: Name = ""


class SigninCreate(Body):
    email: Annotated[str, StringConstraints(max_length=320)]
    password: Annotated[str, StringConstraints(max_length=256)]


class AnonymousSigninCreate(Body):
    id_project: Annotated[str, StringConstraints(max_length=64)]
    firstname: Name | None = None
    lastname: Name | None = None
    email: Email | None = None
    attributes: Attributes = Field(default_factory=dict)


@with_config(ConfigDict(extra="allow"))
class VisitorPublic(TypedDict):
    """A visitor as its sign-in returns it. Beside these fields, a customer token's own claims
    (all but iss, aud, exp, iat, nbf) are echoed as they were signed."""

    _id: Annotated[str, Field(description="The visitor id")]
    id: SameAsId
    firstname: Annotated[str, Field(description="As the visitor or its token gave it")]
    lastname: Annotated[str, Field(description="As the visitor or its token gave it")]
    fullName: Annotated[str, Field(description="First and last name, trimmed")]
    email: Annotated[
        NotRequired[str], Field(description="From the token or the sign-in, when given")
    ]
    phone: Annotated[NotRequired[str], Field(description="From the token, when given")]
    attributes: Annotated[dict[str, Any], Field(description="The visitor's own JSON object")]
    isAuthenticated: Annotated[bool, Field(description="False for an anonymous visitor")]


class VisitorSigninPublic(Public):
    success: AlwaysTrue
    token: Annotated[str, Field(description="Session token: send it as Authorization: JWT <token>")]
    user: Annotated[VisitorPublic, Field(description="The visitor")]
    merge: Annotated[MergeOutcomePublic | None, Field(
        description="Sign-in with a customer token and an anonymous session's proof only"
    )] = None


class ContinuePublic(VisitorSigninPublic):
    request_id: Annotated[str, Field(description="The conversation the link reopens")]


class SuccessPublic(Public):
    success: Annotated[bool, Field(description="Whether it was done")]
    revoked: Annotated[bool | None, Field(description="Logout: whether a session ended")] = None
    removed: Annotated[str | None, Field(description="The membership removed")] = None


class HealthPublic(Public):
    success: AlwaysTrue
    status: Annotated[Literal["ok"], Field(description="Always ok: the process answers")]


class ReadyPublic(Public):
    success: AlwaysTrue
    status: Annotated[Literal["ready"], Field(description="Always ready: every check answered")]
    checks: Annotated[
        dict[str, str],
        Field(description="Each dependency checked (database, redis when configured): ok"),
    ]


class ErrorPublic(Public):
    success: Annotated[Literal[False], Field(description="Always false")]
    code: Annotated[str, Field(description="Stable error code, e.g. request_not_found")]
    message: Annotated[str, Field(description="What went wrong, for people")]
    details: Annotated[
        list[dict[str, Any]] | None,
        Field(description="Per field: where (loc), what (msg) and its type"),
    ] = None


# ---- projects -----------------------------------------------------------------------------


class ProjectCreate(Body):
    name: ProjectName


TierName = Literal["anonymous", "email_verified", "authenticated"]
OffHoursMessage = Annotated[str, StringConstraints(max_length=2000)]


class ProjectSettingsUpdate(Body):
    allow_anonymous: bool | None = None
    active_operating_hours: bool | None = None
    operating_hours: JsonObject | None = None
    widget: Annotated[JsonObject, Field(max_length=50)] | None = None
    key_grace_period: Annotated[int, Field(ge=0, le=90 * 24 * 3600)] | None = None
    require_exp: bool | None = None
    max_token_age: Annotated[int, Field(ge=0, le=365 * 24 * 3600)] | None = None
    single_use_tokens: bool | None = None
    allowed_origins: Annotated[list[WidgetOrigin], Field(max_length=50)] | None = None
    anonymous_retention_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    max_upload_bytes: Annotated[int, Field(ge=0, le=1 << 40)] | None = None
    off_hours_message: OffHoursMessage | None = None
    expected_reply_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] | None = None
    transcript_on_close: bool | None = None
    continuity_emails: bool | None = None
    widget_page_url: Annotated[str, StringConstraints(max_length=2000,
                                                      pattern=r"^https?://")] | None = None


class ProjectUpdate(Body):
    name: ProjectName | None = None
    settings: ProjectSettingsUpdate | None = None
    activeOperatingHours: bool | None = None
    operatingHours: JsonObject | None = None


# ---- team ---------------------------------------------------------------------------------


class ProjectUserUpdate(Body):
    user_available: bool | None = None
    role: AgentRoleName | None = None
    # -1 (Tiledesk's "no limit") removes the maximum.
    max_assigned_chat: Annotated[int, Field(ge=-1, le=1000)] | None = None
    attributes: Attributes | None = None


class InviteCreate(Body):
    email: Email
    role: AgentRoleName = "agent"


class InvitationAccept(Body):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


# ---- keys ---------------------------------------------------------------------------------


class GeneratedKeyPublic(Public):
    """A new shared secret (shown this once) and every key of the project."""

    jwtSecret: Annotated[str, Field(description="The new shared secret, shown this once")]
    kid: Annotated[str, Field(description="Its key id")]
    kind: Annotated[str, Field(description="hmac")]
    alg: Annotated[str, Field(description="The algorithm to sign with")]
    algorithms: Annotated[list[str], Field(description="Algorithms it verifies")]
    createdAt: Annotated[str, Field(description="ISO 8601 UTC")]
    keys: Annotated[list[KeyPublic], Field(description="Every key of the project")]


class KeyCreate(Body):
    kind: Literal["shared", "public"] = "shared"
    kid: Kid | None = None
    publicKey: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    label: Annotated[str, StringConstraints(max_length=200)] = ""


@closed
class CreatedKeyPublic(KeyPublic):
    """A key just added; a shared secret is shown this once."""

    alg: Annotated[str | None, Field(description="The algorithm it signs with")]
    jwtSecret: NotRequired[Annotated[str, Field(description="Shared keys only")]]


class JwksCreate(Body):
    jwks: dict[str, Any] | None = None
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    label: Annotated[str, StringConstraints(max_length=200)] = ""


class KeyRetireQuery(Body):
    grace: Annotated[int, Field(ge=0, le=90 * 24 * 3600)] | None = None


# ---- identity: audit, sessions, merges ----------------------------------------------------

AuditType = Literal[
    "signin.anonymous", "signin.custom", "signin.failed", "key.created", "key.rotated",
    "key.retired", "policy.changed", "merge", "merge.reverted", "session.revoked",
    "lead.erased", "lead.exported", "retention.erased",
    "invitation.created", "invitation.accepted", "invitation.withdrawn",
    "note.deleted",
    "presence.away", "presence.back",
    "request.assigned", "request.reassigned", "request.closed", "request.reopened",
    "member.role_changed", "member.removed", "tag.deleted", "tag.removed",
    "email.code_sent", "email.code_failed", "email.verified", "verification.requested",
    "continuity.sent", "continuity.link_used",
]


class AuditQuery(Body):
    type: AuditType | None = None
    subject: Annotated[str, StringConstraints(max_length=200)] | None = None
    before: ObjectId | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class CustomTokenSigninCreate(Body):
    anonymous_token: Annotated[str, StringConstraints(max_length=8192)] | None = None


# ---- departments --------------------------------------------------------------------------


class DepartmentCreate(Body):
    name: ProjectName
    # null (what Tiledesk's SDK sends when none is given) is kept, and routes as "assigned".
    routing: Literal["assigned", "pooled", "fixed"] | None = "assigned"
    agents: Annotated[list[ObjectId], Field(max_length=500)] = Field(default_factory=list)
    minTier: TierName = "anonymous"
    operatingHours: JsonObject | None = None
    offHoursMessage: OffHoursMessage | None = None


class DepartmentUpdate(Body):
    """Fields left out stay as they are; ``operatingHours`` / ``offHoursMessage`` set to null
    go back to the project's."""

    name: ProjectName | None = None
    routing: Literal["assigned", "pooled", "fixed"] | None = None
    agents: Annotated[list[ObjectId], Field(max_length=500)] | None = None
    minTier: TierName | None = None
    operatingHours: JsonObject | None = None
    offHoursMessage: OffHoursMessage | None = None


# ---- requests and messages ----------------------------------------------------------------

MessageType = Literal["text", "image", "file", "frame", "html"]


class MessageCreate(Body):
    text: Annotated[str, StringConstraints(max_length=8192)] = ""
    type: MessageType = "text"
    senderFullname: Annotated[str, StringConstraints(max_length=200)] | None = None
    attributes: Attributes = Field(default_factory=dict)
    metadata: JsonObject | None = None
    departmentid: ObjectId | None = None
    sourcePage: ShortText | None = None
    language: Annotated[str, StringConstraints(max_length=35)] | None = None
    userAgent: Annotated[str, StringConstraints(max_length=1000)] | None = None
    channel: JsonObject | None = None


class TagObject(Body):
    tag: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    color: Annotated[str, StringConstraints(max_length=20)] | None = None


TagName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Tag = TagName | TagObject


class RequestPatch(Body):
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    attributes: Attributes | None = None


class AssignUpdate(Body):
    assignee: ObjectId | None = None
    # Tiledesk's assign: route a waiting conversation to this department instead.
    departmentid: ObjectId | None = None


class RouteUpdate(Body):
    departmentid: ObjectId | None = None
    nobot: bool | None = None


class ParticipantsUpdate(RootModel[Annotated[list[ObjectId], Field(max_length=50)]]):
    pass


class ParticipantCreate(Body):
    member: ObjectId


class RatingUpdate(Body):
    rating: Annotated[int, Field(ge=0, le=5)]
    rating_message: Annotated[str, StringConstraints(max_length=2000)] | None = None


class AttributesUpdate(RootModel[Attributes]):
    pass


class TagsAdd(RootModel[Annotated[list[Tag], Field(min_length=1, max_length=50)]]):
    """Tags to add (Tiledesk's tag endpoint); one already there by name is kept as it is."""


MAX_PAGE = 100


def _at_most_a_page(limit: int) -> int:
    return min(limit, MAX_PAGE)


# Tiledesk answers a larger limit with a default page instead of an error, and its clients
# rely on that: frontdesk serves the largest page it allows (perPage says which).
PageLimit = Annotated[int, Field(ge=1), AfterValidator(_at_most_a_page)]


# An opaque cursor the list gave as ``next`` (keyset pagination; see auth/list_cursors.py).
ListCursor = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RequestsQuery(Body):
    status: Annotated[str, StringConstraints(max_length=100)] | None = None
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: PageLimit = 40
    after: ListCursor | None = None
    # full_text: Tiledesk's name for the same search.
    text: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, validation_alias=AliasChoices("text", "full_text")
    )
    authenticated: bool | None = None
    mine: bool = False
    lead: ObjectId | None = None
    # Tiledesk's name: conversations carrying the tag of this name.
    tags: TagName | None = None
    # full: Tiledesk's shape; inbox: only what the agents' list draws (RequestInboxPublic).
    view: Literal["full", "inbox"] = "full"


class MyRequestsQuery(Body):
    status: Annotated[str, StringConstraints(max_length=100)] | None = None
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 40
    after: ListCursor | None = None


class MessagesQuery(Body):
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    after: ObjectId | None = None
    before: ObjectId | None = None
    latest: bool = False


class RequestsPublic(Public):
    """A page of conversations, newest activity first (a visitor sees its own view)."""

    perPage: Annotated[int, Field(description="The page size served")]
    count: CappedCount
    countCapped: CountCapped
    next: Annotated[
        str | None,
        Field(
            description="Cursor of the page after this one (send it as `after`); null on the"
            " last page"
        ),
    ]
    requests: Annotated[
        list[RequestSeenPublic] | list[RequestInboxPublic],
        Field(description="The page: full rows, or with view=inbox the list's rows"),
    ]


# ---- leads --------------------------------------------------------------------------------


class LeadUpdate(Body):
    fullname: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    attributes: Attributes | None = None
    tags: Annotated[list[TagName], Field(max_length=50)] | None = None


class LeadTagsAdd(RootModel[Annotated[list[TagName], Field(min_length=1, max_length=50)]]):
    """Tag names to add to a contact (Tiledesk's lead tag endpoint)."""


TagColor = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{3}([0-9A-Fa-f]{3})?$")]
# No slash: a tag is removed by its name in a path (``DELETE …/tag/<name>``).
LibraryTagName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00/]+$"),
]


class TagCreate(Body):
    tag: LibraryTagName
    color: TagColor | None = None


class TagUpdate(Body):
    tag: LibraryTagName | None = None
    color: TagColor | None = None


class TagsQuery(Body):
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 500


class LeadsQuery(Body):
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 40
    text: Annotated[str, StringConstraints(max_length=200)] | None = None
    authenticated: bool | None = None


# ---- canned responses and private notes ---------------------------------------------------

CannedText = Annotated[str, StringConstraints(min_length=1, max_length=8192)]
CannedTitle = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class CannedCreate(Body):
    title: CannedTitle = ""
    text: CannedText
    shared: bool = False


class CannedUpdate(Body):
    title: CannedTitle | None = None
    text: CannedText | None = None
    shared: bool | None = None


class CannedFillQuery(Body):
    request_id: Annotated[str, StringConstraints(min_length=1, max_length=120)]


class NoteCreate(Body):
    text: Annotated[str, StringConstraints(max_length=4000)]


# ---- trust tiers --------------------------------------------------------------------------


class AvailabilityQuery(Body):
    department: ObjectId | None = None


class EmailCodeCreate(Body):
    email: Email


class EmailCodeConfirm(Body):
    email: Email
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class VerificationRequestCreate(Body):
    tier: Literal["email_verified", "authenticated"] = "email_verified"


class ContinueCreate(Body):
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
