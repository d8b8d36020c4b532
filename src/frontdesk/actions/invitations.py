"""Invitations into a project: issued by admins, accepted only with their single-use token.

An invitation never joins anybody by matching an address: sign-up proves no mailbox, and an
account may have been registered under the invited address by someone else before the
invitation existed. The token is the proof. It is random (32 bytes), shown to the inviting
admin once (an accept link to pass on), stored only as its SHA-256, valid for
``invitation_ttl`` seconds, and consumed by the one transaction that accepts it. As a second
line, the accepting account's email must be the invited address, so a link that reaches the
wrong person does not put that person's existing account into the team.
"""

from __future__ import annotations

import hashlib
import secrets

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess
from frontdesk.actions.credentials import normalise_email
from frontdesk.actions.outbox import do_enqueue
from frontdesk.actions.team import notify_member_changed
from frontdesk.auth.permissions import can_manage_member
from frontdesk.auth.principals import Agent
from frontdesk.errors import Conflict, Forbidden, NotFound
from frontdesk.models.invitations import (
    InvitationAcceptedPublic,
    InvitationPublic,
    InvitationWithdrawnPublic,
    InvitePublic,
    present_invitation,
)
from frontdesk.services import Services
from frontdesk.storage import invitations, project_users
from frontdesk.storage.database import Transaction
from frontdesk.storage.invitations import InvitationRecord

_TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """A fresh accept token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def accept_url(services: Services, token: str) -> str:
    # In the fragment, so the token reaches neither server logs nor Referer headers.
    return f"{services.settings.base_url}/dashboard/invitation#{token}"


async def check_invite(
    services: Services, access: ProjectAccess, *, email: str, role: str
) -> InvitePublic:
    """Issue an invitation for ``email`` with ``role``; an older pending one for the same
    address is replaced, so only the newest link works.

    Raises Forbidden(insufficient_role) when the caller may not grant ``role``,
    Conflict(already_member) when the address's account is in the team already,
    Conflict(invitation_in_progress) when another invite for the address commits meanwhile.
    """
    if not can_manage_member(access.role, "agent", role):
        raise Forbidden("you may not invite with this role", code="insufficient_role")
    email = normalise_email(email)
    project_id = access.project["id"]
    inviter = access.agent.user_id
    now = services.now_ms()
    token, token_hash = new_token()
    invitation: InvitationRecord = {
        "id": services.ids.object_id(),
        "project_id": project_id,
        "email": email,
        "role": role,
        "invited_by": inviter,
        "token_hash": token_hash,
        "status": "pending",
        "created_at": now,
        "expires_at": now + services.settings.invitation_ttl * 1000,
        "closed_at": None,
        "closed_by": None,
    }
    async with services.db.transaction() as tx:
        if await project_users.get_member_by_email(tx, project_id, email) is not None:
            raise Conflict(f"{email} is already in this project", code="already_member")
        replaced = []
        for older in await invitations.pending_for_email(tx, project_id, email):
            await invitations.close_invitation(
                tx, older["id"], status="replaced", now=now, by=inviter
            )
            replaced.append(older["id"])
        if not await invitations.insert_invitation(tx, invitation):
            raise Conflict(
                f"another invitation for {email} was just issued; list them and try again",
                code="invitation_in_progress",
            )
        emailed = await _email_invitation(services, tx, access, email, token)
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "invitation.created", actor=inviter, subject=invitation["id"],
            details={"email": email, "role": role, "replaced": replaced, "emailed": emailed},
        ))
    return {
        "success": True,
        "pending": True,
        "email": email,
        "role": role,
        "invitation": present_invitation(invitation, now),
        "token": token,
        "acceptUrl": accept_url(services, token),
    }


async def _email_invitation(
    services: Services, tx: Transaction, access: ProjectAccess, email: str, token: str
) -> bool:
    """Queue the accept link to the invited address when this server sends e-mail (the
    inviting admin is shown the link either way). The link is sealed until sent."""
    if not services.mailer.configured:
        return False
    inviter = access.agent.fullname or access.agent.email
    return await do_enqueue(
        services, tx, project_id=access.project["id"], kind="invitation", to=email,
        subject=f"{inviter} invites you to {access.project['name']} on frontdesk",
        body=(
            f"{inviter} invites you to answer chats for {access.project['name']}.\n\n"
            "Accept with this link (sign in or sign up with this e-mail address first):\n"
            "{link}\n\nThe link works once. If you did not expect it, ignore this e-mail.\n"
        ),
        sealed={"link": accept_url(services, token)},
    )


async def list_invitations(
    services: Services, access: ProjectAccess
) -> list[InvitationPublic]:
    """The project's pending invitations, expired ones included, oldest first; no tokens."""
    rows = await invitations.pending_of_project(services.db, access.project["id"])
    now = services.now_ms()
    return [present_invitation(r, now) for r in rows]


async def check_withdraw(
    services: Services, access: ProjectAccess, invitation_id: str
) -> InvitationWithdrawnPublic:
    """Withdraw a pending invitation: its token stops working at once.

    Raises NotFound(invitation_not_found) for an unknown or no longer pending invitation,
    Forbidden(insufficient_role) when an admin withdraws an owner's invitation.
    """
    project_id = access.project["id"]
    now = services.now_ms()
    async with services.db.transaction() as tx:
        row = await invitations.get_invitation(tx, project_id, invitation_id)
        if row is None or row["status"] != "pending":
            raise NotFound(f"no pending invitation {invitation_id!r}",
                           code="invitation_not_found")
        if not can_manage_member(access.role, row["role"], None):
            raise Forbidden("you may not withdraw this invitation", code="insufficient_role")
        if not await invitations.close_invitation(
            tx, invitation_id, status="withdrawn", now=now, by=access.agent.user_id
        ):
            raise NotFound(f"no pending invitation {invitation_id!r}",
                           code="invitation_not_found")
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "invitation.withdrawn", actor=access.agent.user_id, subject=invitation_id,
            details={"email": row["email"], "role": row["role"]},
        ))
    withdrawn: InvitationRecord = {
        **row, "status": "withdrawn", "closed_at": now, "closed_by": access.agent.user_id
    }
    return {"success": True, "invitation": present_invitation(withdrawn, now)}


async def check_accept(services: Services, agent: Agent, token: str) -> InvitationAcceptedPublic:
    """Make ``agent`` a member with the invited role, consuming the token.

    Raises NotFound(invitation_invalid) for a token that is unknown, used, withdrawn or
    replaced; NotFound(invitation_expired) past its expiry; Forbidden(invitation_wrong_account)
    when the agent's email is not the invited address; Conflict(already_member). A refused
    token stays as it was.
    """
    now = services.now_ms()
    async with services.db.transaction() as tx:
        row = await invitations.get_by_token_hash(tx, hash_token(token))
        if row is None or row["status"] != "pending":
            raise NotFound("this invitation link is not valid (used, withdrawn or unknown)",
                           code="invitation_invalid")
        if row["expires_at"] <= now:
            raise NotFound("this invitation link has expired; ask for a new one",
                           code="invitation_expired")
        if normalise_email(agent.email) != row["email"]:
            raise Forbidden("this invitation is for another email address; sign in with the"
                            " invited account", code="invitation_wrong_account")
        project_id = row["project_id"]
        if await project_users.get_membership(tx, project_id, agent.user_id) is not None:
            raise Conflict("you are already in this project", code="already_member")
        if not await invitations.close_invitation(
            tx, row["id"], status="accepted", now=now, by=agent.user_id
        ):
            raise NotFound("this invitation link is not valid (used, withdrawn or unknown)",
                           code="invitation_invalid")
        member_id = services.ids.object_id()
        if not await project_users.insert_project_user(
            tx, id=member_id, project_id=project_id, user_id=agent.user_id, role=row["role"],
            invited_by=row["invited_by"], now=now, if_absent=True,
        ):  # a concurrent acceptance of another invitation made the agent a member
            raise Conflict("you are already in this project", code="already_member")
        services.project_changed_on_commit(tx, project_id, agent.user_id)
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "invitation.accepted", actor=agent.user_id, subject=row["id"],
            details={"email": row["email"], "role": row["role"], "project_user": member_id},
        ))
        member = await notify_member_changed(services, tx, project_id, member_id)
    return {"success": True, "id_project": project_id, "role": row["role"],
            "project_user": member}
