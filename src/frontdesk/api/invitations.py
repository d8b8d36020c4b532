"""Invitations: admins invite by email and withdraw; the invitee accepts with the token."""

from __future__ import annotations

from frontdesk.actions import invitations
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router

router = Router("team")


@router.route("POST", "/{pid}/project_users/invite",
              summary="Invite an agent by email (admins); the answer holds the accept link once",
              body=s.InviteCreate, response=s.InvitePublic, min_role="admin")
async def invite(call: Call) -> s.InvitePublic:
    b: s.InviteCreate = call.body
    return await invitations.check_invite(call.services, call.access, email=b.email, role=b.role)


@router.route("GET", "/{pid}/invitations", summary="Pending invitations, without tokens (admins)",
              response=list[s.InvitationPublic], min_role="admin")
async def list_invitations(call: Call) -> list[s.InvitationPublic]:
    return await invitations.list_invitations(call.services, call.access)


@router.route("DELETE", "/{pid}/invitations/{iid}",
              summary="Withdraw a pending invitation (admins)",
              response=s.InvitationWithdrawnPublic, min_role="admin")
async def withdraw_invitation(call: Call) -> s.InvitationWithdrawnPublic:
    return await invitations.check_withdraw(call.services, call.access, call.params["iid"])


@router.route("POST", "/auth/invitations/accept",
              summary="Join a project with an invitation's token (the signed-in agent)",
              body=s.InvitationAccept, response=s.InvitationAcceptedPublic, min_role=None)
async def accept_invitation(call: Call) -> s.InvitationAcceptedPublic:
    agent = call.agent
    b: s.InvitationAccept = call.body
    return await invitations.check_accept(call.services, agent, b.token)
