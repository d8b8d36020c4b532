"""/:pid/leads: contacts."""

from __future__ import annotations

from frontdesk.actions import leads
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router
from frontdesk.models.leads import present_lead

router = Router("leads")


@router.route("GET", "/{pid}/leads", summary="Contacts (search, verified/anonymous filter)",
              query=s.LeadsQuery, response=s.LeadsPublic)
async def list_leads(call: Call) -> s.LeadsPublic:
    q: s.LeadsQuery = call.query
    return await leads.list_leads(call.services, call.access, authenticated=q.authenticated,
                                  text=q.text, page=q.page, limit=q.limit)


@router.route("GET", "/{pid}/leads/{lid}", summary="A contact (by _id or lead_id)",
              response=s.LeadPublic)
async def get_lead(call: Call) -> s.LeadPublic:
    return present_lead(await leads.access_lead(call.services, call.access, call.params["lid"]))


@router.route("PUT", "/{pid}/leads/{lid}", summary="Edit a contact's self-reported fields",
              body=s.LeadUpdate, response=s.LeadPublic)
async def update_lead(call: Call) -> s.LeadPublic:
    b: s.LeadUpdate = call.body
    return await leads.check_update_lead(call.services, call.access, call.params["lid"],
                                         b.model_dump(exclude_unset=True))


@router.route("PUT", "/{pid}/leads/{lid}/tag", summary="Add tags to a contact",
              body=s.LeadTagsAdd, response=s.LeadPublic)
async def add_lead_tags(call: Call) -> s.LeadPublic:
    b: s.LeadTagsAdd = call.body
    return await leads.check_add_lead_tags(call.services, call.access, call.params["lid"], b.root)


@router.route("DELETE", "/{pid}/leads/{lid}/tag/{tag}", summary="Remove a tag from a contact",
              response=s.LeadPublic)
async def remove_lead_tag(call: Call) -> s.LeadPublic:
    return await leads.check_remove_lead_tag(call.services, call.access, call.params["lid"],
                                             call.params["tag"])


@router.route("DELETE", "/{pid}/leads/{lid}",
              summary="Erase a contact and all its conversations (admins)",
              response=s.ErasurePublic, min_role="admin")
async def erase_lead(call: Call) -> s.ErasurePublic:
    return await leads.do_erase_lead(call.services, call.access, call.params["lid"])
