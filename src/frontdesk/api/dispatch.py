"""``IndexedRouter``: Starlette's router, trying only the routes a path could match.

Starlette's router tries every route's regular expression in turn, in declaration order; with
the whole API in one table that scan was a tenth of a message's CPU. This router answers
exactly as Starlette's does — the first full match wins, else the first partial one (405),
else a slash redirect or 404 — but asks only the candidates an index names, in the same order:

- a plain route (no ``{…:path}`` parameter) can only match a path with as many segments and
  the same text in each of its literal segments: routes are grouped by segment count and by
  which positions hold literals, then looked up by those literals;
- any other route (a mount, a ``{…:path}`` route, anything else) is tried when the path
  starts with the literal text before its first parameter ("" for those it cannot tell).

The index is a superset filter: each candidate still decides with its own ``matches``, except
a plain route whose parameters are all plain strings (``{pid}``): the index has already
compared its literal segments, so it matches when none of its parameter segments is empty,
which is what its regular expression checks, and its parameters are those segments.

``IndexedRouter.resolve`` finds a path's route, by the same rule, for the HTTP front
(``api.front``), which then calls the route's ASGI app itself: about a tenth of a sign-in's
frames are Starlette's router and route between the front and the endpoint. Anything that
is not a full match (405, a slash redirect, 404) goes through ``app`` as before.
WebSocket and lifespan scopes go through Starlette's own loop unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any, cast

from starlette._utils import get_route_path
from starlette.convertors import PathConvertor, StringConvertor
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

Ranked = tuple[int, BaseRoute]  # (position in the route list, route)
_Shape = tuple[tuple[int, ...], dict[tuple[str, ...], list[Ranked]]]
_order = itemgetter(0)
# A plain route whose parameters are all strings: its parameters' names by segment position.
_StringParams = tuple[tuple[int, str], ...]


class _RouteIndex:
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.size = len(routes)
        # segment count -> [(literal positions, {literal texts: routes})]
        self.shapes: dict[int, list[_Shape]] = {}
        self.prefixed: list[tuple[int, str, BaseRoute]] = []
        self.string_params: dict[int, _StringParams] = {}  # id(route) -> its parameters
        for rank, route in enumerate(routes):
            segments = _plain_segments(route)
            if segments is None:
                self.prefixed.append((rank, _literal_prefix(route), route))
                continue
            params = _string_params(cast(Route, route), segments)
            if params is not None:
                self.string_params[id(route)] = params
            positions = tuple(i for i, s in enumerate(segments) if "{" not in s)
            literals = tuple(segments[i] for i in positions)
            shapes = self.shapes.setdefault(len(segments), [])
            table = next((t for p, t in shapes if p == positions), None)
            if table is None:
                table = {}
                shapes.append((positions, table))
            table.setdefault(literals, []).append((rank, route))

    def candidates(self, path: str, segments: list[str] | None = None) -> list[Ranked]:
        """The routes ``path`` could match, in declaration order (``segments``: the path
        split at "/", when the caller has it already)."""
        if segments is None:
            segments = path.split("/")
        found: list[Ranked] = []
        for positions, table in self.shapes.get(len(segments), ()):
            hits = table.get(tuple([segments[i] for i in positions]))
            if hits:
                found += hits
        for rank, prefix, route in self.prefixed:
            if path.startswith(prefix):
                found.append((rank, route))
        if len(found) > 1:
            found.sort(key=_order)
        return found


def _plain_segments(route: BaseRoute) -> list[str] | None:
    """The ``/``-separated segments of a plain route's path; None for any other route."""
    if type(route) is not Route or any(
        isinstance(c, PathConvertor) for c in route.param_convertors.values()
    ):
        return None
    return route.path.split("/")


def _string_params(route: Route, segments: list[str]) -> _StringParams | None:
    """Where a plain route's parameters are, when each is a whole segment of its own taking
    any text (``{name}`` or ``{name:str}``); None for any other route."""
    params = []
    for position, segment in enumerate(segments):
        if "{" not in segment:
            continue
        name = segment[1:-1].split(":", 1)[0]
        if segment[0] != "{" or segment[-1] != "}" or not isinstance(
            route.param_convertors.get(name), StringConvertor
        ):
            return None
        params.append((position, name))
    return tuple(params)


def _literal_prefix(route: BaseRoute) -> str:
    """Text every path the route matches starts with ("" when that is not known)."""
    if type(route) is Route:
        return route.path.split("{", 1)[0]
    if type(route) is Mount:
        return route.path.split("{", 1)[0]
    return ""


class IndexedRouter(Router):
    """A Starlette ``Router`` whose HTTP dispatch consults a route index (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index: _RouteIndex | None = None

    def _current_index(self) -> _RouteIndex:
        index = self._index
        if index is None or index.size != len(self.routes):  # routes added since
            index = self._index = _RouteIndex(self.routes)
        return index

    def resolve(self, scope: Scope) -> ASGIApp | None:
        """What serves an HTTP ``scope`` whose path and method a route fully matches (the
        first in declaration order, Starlette's rule), with the scope updated as Starlette's
        router updates it: a plain route's own ASGI app (its method is checked), else the
        route's ``handle``. None, with the scope untouched, when no route fully matches."""
        index = self._current_index()
        path = get_route_path(scope)
        segments = path.split("/")
        for _, route in index.candidates(path, segments):
            params = index.string_params.get(id(route))
            if params is None:
                match, child_scope = route.matches(scope)
                if match is not Match.FULL:
                    continue
                scope.update(child_scope)
                served: ASGIApp = route.handle
            else:
                plain = cast(Route, route)
                if plain.methods and scope["method"] not in plain.methods:
                    continue
                values = {name: segments[position] for position, name in params}
                if not all(values.values()):
                    continue
                scope["endpoint"] = plain.endpoint
                scope["path_params"] = {**scope.get("path_params", {}), **values}
                served = plain.app
            scope.setdefault("router", self)
            scope["route"] = route
            return served
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        served = self.resolve(scope)
        if served is not None:
            await served(scope, receive, send)
            return
        # No full match: the first partial one (a wrong method: 405), as Starlette answers.
        scope.setdefault("router", self)
        partial: BaseRoute | None = None
        partial_scope: Scope = {}
        for _, route in self._current_index().candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.PARTIAL:
                partial, partial_scope = route, child_scope
                break
        if partial is not None:
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        # No route: Starlette's slash redirect or 404, over every route as it always did.
        await super().app(scope, receive, send)
