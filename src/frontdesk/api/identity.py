"""A contact's identity: its sessions, its merges, its data export (agents and admins)."""

from __future__ import annotations

from frontdesk.actions import leads, merges, sessions
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router

router = Router("identity")


@router.route("GET", "/{pid}/leads/{lid}/sessions", summary="A contact's live widget sessions",
              response=list[s.SessionPublic])
async def list_sessions(call: Call) -> list[s.SessionPublic]:
    return await sessions.list_sessions(call.services, call.access, call.params["lid"])


@router.route("DELETE", "/{pid}/leads/{lid}/sessions",
              summary="Sign the contact out of the widget everywhere (admins)",
              response=s.SessionsRevokedPublic, min_role="admin")
async def revoke_all_sessions(call: Call) -> s.SessionsRevokedPublic:
    return await sessions.do_revoke_sessions(call.services, call.access, call.params["lid"],
                                             jti=None)


@router.route("DELETE", "/{pid}/leads/{lid}/sessions/{jti}",
              summary="End one of the contact's sessions (admins)",
              response=s.SessionsRevokedPublic, min_role="admin")
async def revoke_session(call: Call) -> s.SessionsRevokedPublic:
    return await sessions.do_revoke_sessions(call.services, call.access, call.params["lid"],
                                             jti=call.params["jti"])


@router.route("GET", "/{pid}/leads/{lid}/merges",
              summary="Anonymous visitors merged into (or out of) this contact",
              response=list[s.MergePublic])
async def list_merges(call: Call) -> list[s.MergePublic]:
    return await merges.list_merges_of_lead(call.services, call.access, call.params["lid"])


@router.route("POST", "/{pid}/merges/{mid}/revert",
              summary="Undo a merge: the conversations go back to the anonymous contact",
              response=s.MergePublic, min_role="admin")
async def revert_merge(call: Call) -> s.MergePublic:
    return await merges.do_revert_merge(call.services, call.access, call.params["mid"])


@router.route("GET", "/{pid}/leads/{lid}/export",
              summary="Everything stored about a contact, as JSON (admins)",
              response=s.LeadExportPublic, min_role="admin")
async def export_lead(call: Call) -> s.LeadExportPublic:
    return await leads.export_lead(call.services, call.access, call.params["lid"])
