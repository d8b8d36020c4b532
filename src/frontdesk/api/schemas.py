"""Request bodies, query strings and responses, named as families (``LeadUpdate``,
``LeadPublic``, ``LeadsPublic``). The OpenAPI document is generated from these models, and the
same models validate what comes in (and, in tests, what goes out)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from frontdesk.jsonutil import dumpb, json_depth

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


JsonObject = Annotated[dict[str, Any], AfterValidator(check_json_object)]

ObjectId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
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
    """Outgoing JSON: the documented fields, and more may follow."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


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


class UserPublic(Public):
    id_: str = Field(alias="_id")
    email: str | None = None
    firstname: str = ""
    lastname: str = ""
    fullName: str = ""


class SignupPublic(Public):
    success: Literal[True]
    user: UserPublic


class SigninPublic(Public):
    success: Literal[True]
    token: str
    user: UserPublic


class VisitorPublic(UserPublic):
    isAuthenticated: bool
    attributes: dict[str, Any] = Field(default_factory=dict)


class VisitorSigninPublic(Public):
    success: Literal[True]
    token: str
    user: VisitorPublic


class SuccessPublic(Public):
    success: bool


class ErrorPublic(BaseModel):
    success: Literal[False]
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


# ---- projects -----------------------------------------------------------------------------


class ProjectCreate(Body):
    name: ProjectName


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


class ProjectUpdate(Body):
    name: ProjectName | None = None
    settings: ProjectSettingsUpdate | None = None
    activeOperatingHours: bool | None = None
    operatingHours: JsonObject | None = None


class ProjectPublic(Public):
    id_: str = Field(alias="_id")
    name: str
    settings: dict[str, Any]
    widget: dict[str, Any]
    activeOperatingHours: bool
    operatingHours: dict[str, Any]


class MembershipPublic(Public):
    id_: str = Field(alias="_id")
    id_project: ProjectPublic
    role: str
    user_available: bool


class IsOpenPublic(Public):
    isopen: bool


class AvailableAgentPublic(Public):
    id: str
    firstname: str
    lastname: str


class WidgetConfigPublic(Public):
    project: dict[str, Any]
    isopen: bool
    user_available: list[AvailableAgentPublic]
    departments: list[dict[str, Any]]


# ---- team ---------------------------------------------------------------------------------


class ProjectUserUpdate(Body):
    user_available: bool | None = None
    role: AgentRoleName | None = None
    max_assigned_chat: Annotated[int, Field(ge=0, le=1000)] | None = None
    attributes: Attributes | None = None


class InviteCreate(Body):
    email: Email
    role: AgentRoleName = "agent"


class ProjectUserPublic(Public):
    id_: str = Field(alias="_id")
    id_project: str
    role: str
    isAuthenticated: bool
    user_available: bool


class InvitationPublic(Public):
    """A pending invitation as admins see it; its token is never part of it."""

    id_: str = Field(alias="_id")
    id_project: str
    email: str
    role: str
    status: Literal["pending", "expired", "unsent", "accepted", "withdrawn", "replaced"]
    invitedBy: str
    createdAt: str
    expiresAt: str


class InvitePublic(Public):
    """Tiledesk's invite answer, plus the invitation and, this once, its accept link."""

    success: Literal[True]
    pending: bool
    email: str
    role: str
    invitation: InvitationPublic
    token: str
    acceptUrl: str


class InvitationAccept(Body):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class InvitationAcceptedPublic(Public):
    success: Literal[True]
    id_project: str
    role: str
    project_user: ProjectUserPublic


class InvitationWithdrawnPublic(Public):
    success: Literal[True]
    invitation: InvitationPublic


# ---- keys ---------------------------------------------------------------------------------


class KeyPublic(Public):
    kid: str
    kind: str
    state: Literal["active", "grace", "retired"]


class GeneratedKeyPublic(Public):
    jwtSecret: str
    kid: str
    alg: str
    keys: list[KeyPublic]


class KeyCreate(Body):
    kind: Literal["shared", "public"] = "shared"
    kid: Kid | None = None
    publicKey: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    label: Annotated[str, StringConstraints(max_length=200)] = ""


class CreatedKeyPublic(KeyPublic):
    jwtSecret: str | None = None
    algorithms: list[str]


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
]


class AuditQuery(Body):
    type: AuditType | None = None
    subject: Annotated[str, StringConstraints(max_length=200)] | None = None
    before: ObjectId | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class AuditEventPublic(Public):
    id_: str = Field(alias="_id")
    type: str
    at: str
    actor: str | None
    subject: str | None
    kid: str | None
    code: str | None
    flags: list[str]
    occurrences: int
    lastAt: str
    details: dict[str, Any]


class AuditPublic(Public):
    events: list[AuditEventPublic]
    suspiciousBurst: bool
    next: str | None


class SessionPublic(Public):
    jti: str
    kind: str
    isAuthenticated: bool
    issuedAt: str
    expiresAt: str


class SessionsRevokedPublic(Public):
    success: Literal[True]
    revoked: list[str]


class MergePublic(Public):
    id_: str = Field(alias="_id")
    anonymousVisitor: str
    visitor: str
    lead: str
    requests: list[str]
    description: str
    mergedAt: str
    revertedAt: str | None
    anonymousErasedAt: str | None


class LeadExportPublic(Public):
    exportedAt: str
    lead: dict[str, Any]
    requests: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    merges: list[dict[str, Any]]


class CustomTokenSigninCreate(Body):
    anonymous_token: Annotated[str, StringConstraints(max_length=8192)] | None = None


# ---- departments --------------------------------------------------------------------------


class DepartmentCreate(Body):
    name: ProjectName
    routing: Literal["assigned", "pooled", "fixed"] = "assigned"
    agents: Annotated[list[ObjectId], Field(max_length=500)] = Field(default_factory=list)


class DepartmentUpdate(Body):
    name: ProjectName | None = None
    routing: Literal["assigned", "pooled", "fixed"] | None = None
    agents: Annotated[list[ObjectId], Field(max_length=500)] | None = None


class DepartmentPublic(Public):
    id_: str = Field(alias="_id")
    id_project: str
    name: str
    default: bool
    routing: str


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


class RequestsQuery(Body):
    status: Annotated[str, StringConstraints(max_length=100)] | None = None
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: PageLimit = 40
    # full_text: Tiledesk's name for the same search.
    text: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, validation_alias=AliasChoices("text", "full_text")
    )
    authenticated: bool | None = None
    mine: bool = False
    lead: ObjectId | None = None


class MyRequestsQuery(Body):
    status: Annotated[str, StringConstraints(max_length=100)] | None = None
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 40


class MessagesQuery(Body):
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    after: ObjectId | None = None
    before: ObjectId | None = None
    latest: bool = False


class LeadPublic(Public):
    id_: str = Field(alias="_id")
    lead_id: str
    id_project: str
    fullname: str | None
    email: str | None
    attributes: dict[str, Any]
    isAuthenticated: bool
    provenance: dict[str, Any]


class RequestPublic(Public):
    id_: str = Field(alias="_id")
    request_id: str
    id_project: str
    requester: ProjectUserPublic
    lead: LeadPublic | None
    status: int
    participants: list[str]
    attributes: dict[str, Any]
    snapshot: dict[str, Any]
    first_text: str


class RequestsPublic(Public):
    perPage: int
    count: int
    requests: list[RequestPublic]


class MessagePublic(Public):
    id_: str = Field(alias="_id")
    sender: str
    senderKind: Literal["visitor", "agent"]
    senderFullname: str
    recipient: str
    text: str
    type: str
    attributes: dict[str, Any]
    createdAt: str


# ---- leads --------------------------------------------------------------------------------


class LeadUpdate(Body):
    fullname: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    attributes: Attributes | None = None
    tags: Annotated[list[TagName], Field(max_length=50)] | None = None


class LeadsQuery(Body):
    page: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 40
    text: Annotated[str, StringConstraints(max_length=200)] | None = None
    authenticated: bool | None = None


class LeadsPublic(Public):
    perPage: int
    count: int
    leads: list[LeadPublic]


class ErasurePublic(Public):
    success: Literal[True]
    erased: dict[str, Any]
