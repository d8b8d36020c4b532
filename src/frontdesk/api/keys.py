"""/:pid/keys: the keys customers' backends sign visitor tokens with (admins)."""

from __future__ import annotations

from typing import Any

from frontdesk.actions import keys
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router

router = Router("keys")


@router.route("POST", "/{pid}/keys/generate",
              summary="Generate (rotate) the project secret; shown only in this answer",
              response=s.GeneratedKeyPublic, min_role="admin")
async def generate_key(call: Call) -> dict[str, Any]:
    return await keys.do_generate_key(call.services, call.access)


@router.route("GET", "/{pid}/keys", summary="The project's keys, without their secrets",
              response=list[s.KeyPublic], min_role="admin")
async def list_keys(call: Call) -> list[s.KeyPublic]:
    return await keys.do_list_keys(call.services, call.access)


@router.route("POST", "/{pid}/keys",
              summary="Add a shared secret (shown once) or a public key (RS256/ES256 PEM)",
              body=s.KeyCreate, response=s.CreatedKeyPublic, min_role="admin")
async def create_key(call: Call) -> dict[str, Any]:
    b: s.KeyCreate = call.body
    return await keys.do_create_key(call.services, call.access, kind=b.kind, kid=b.kid,
                                    public_key=b.publicKey, label=b.label)


@router.route("POST", "/{pid}/keys/jwks",
              summary="Register a JWKS: pasted (its keys) or a URL (fetched and cached)",
              body=s.JwksCreate, response=list[s.KeyPublic], min_role="admin")
async def add_jwks(call: Call) -> list[s.KeyPublic]:
    b: s.JwksCreate = call.body
    return await keys.do_add_jwks(call.services, call.access, jwks=b.jwks, url=b.url,
                                  label=b.label)


@router.route("DELETE", "/{pid}/keys/{kid}",
              summary="Retire a key; ?grace=<seconds> keeps it verifying (default: the "
              "project's grace period; 0: at once)",
              query=s.KeyRetireQuery, response=s.KeyPublic, min_role="admin")
async def retire_key(call: Call) -> s.KeyPublic:
    q: s.KeyRetireQuery = call.query
    return await keys.do_retire_key(call.services, call.access, call.params["kid"],
                                    grace_seconds=q.grace)
