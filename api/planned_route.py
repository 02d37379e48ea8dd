"""A FastAPI route that reads a plainly valid request's parameters from a plan made once, not solved per request.

FastAPI solves an endpoint's dependencies anew for every request: it re-inspects each parameter's annotation
(is it a list? a model? JSON?), looks up its aliases and builds the dependency tree's values, which measured
about a quarter of the API's own time per request. :class:`PlannedRoute` works out, once when the route is made,
where each parameter of the endpoint and of its one dependency comes from (the path or the query string), and
per request reads and validates them with the same pydantic validators FastAPI uses.

The plan only takes requests it can answer exactly as FastAPI would:

- routes whose endpoint is a coroutine with path and query parameters of plain types (text, numbers, booleans,
  enumerations, literals and lists of those), at most one dependency of the same kind (our
  :func:`api.deps.context_for`), and a response model serialised to JSON; any other route is FastAPI's;
- requests whose every parameter is present and valid, or absent with a plain default. Anything else (a missing
  or invalid parameter: the 422 problem) goes to FastAPI's own handler *before anything ran*, so the caller gets
  what FastAPI gives, in FastAPI's order (the dependency's 401 or 403 before the endpoint's 422).

The dependency is awaited before the endpoint and its errors propagate as they would from FastAPI. FastAPI's
optional telemetry spans (off unless OpenTelemetry is configured) are not opened for planned requests.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin

from fastapi import params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, serialize_response
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_PLAIN = (bool, int, float, str)
_LISTS = (list, tuple, set, frozenset)


class _Unplanned(Exception):
    """This route (or this request) is left to FastAPI."""


def _plain_type(annotation: Any) -> bool:
    return (
        annotation in _PLAIN
        or get_origin(annotation) is Literal
        or (isinstance(annotation, type) and issubclass(annotation, enum.Enum))
    )


def _without_none(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, UnionType):
        return [part for part in get_args(annotation) if part is not NoneType]
    return [annotation]


def _is_list(annotation: Any) -> bool:
    """Whether a parameter of this annotation (already checked by :func:`_plain_parameter`) takes repeated values."""
    return any(get_origin(part) in _LISTS for part in _without_none(annotation))


def _plain_parameter(annotation: Any) -> bool:
    """Plain types, optional or not, or a list of them: what a query string or a path segment carries."""
    for part in _without_none(annotation):
        if get_origin(part) in _LISTS:
            items = [item for element in get_args(part) for item in _without_none(element)]
            if not items or not all(_plain_type(item) for item in items):
                return False
        elif not _plain_type(part):
            return False
    return True


@dataclass(frozen=True)
class _Parameter:
    """One path or query parameter: where to read it and how FastAPI would validate it."""

    name: str
    alias: str
    in_path: bool
    repeated: bool
    required: bool
    default: Any
    validate_default: bool
    field: Any  # FastAPI's ModelField: its validate() is the pydantic validator FastAPI calls

    @classmethod
    def of(cls, field: Any) -> _Parameter:
        info = field.field_info
        if not isinstance(info, (params.Path, params.Query)) or info.validation_alias is not None or field.config:
            raise _Unplanned
        if not _plain_parameter(info.annotation):
            raise _Unplanned
        required = info.is_required()
        if not required and not (info.default is None or type(info.default) in _PLAIN):
            raise _Unplanned  # FastAPI deep-copies a default; only immutable ones are taken as they are
        return cls(
            name=field.name,
            alias=field.alias,
            in_path=isinstance(info, params.Path),
            repeated=_is_list(info.annotation),
            required=required,
            default=info.default,
            validate_default=bool(info.validate_default),
            field=field,
        )

    def read(self, request: Request, values: dict[str, Any]) -> Any:
        """The parameter's value, as FastAPI would give it; raises _Unplanned where FastAPI would answer 422."""
        value: Any
        if self.in_path:
            value = request.path_params.get(self.alias)
        elif self.repeated:
            value = request.query_params.getlist(self.alias) or None
        else:
            value = request.query_params.get(self.alias)
        if value is None:
            if self.required:
                raise _Unplanned
            if not self.validate_default:
                return self.default
            value = self.default
        where = "path" if self.in_path else "query"
        checked, errors = self.field.validate(value, values, loc=(where, self.alias))
        if errors:
            raise _Unplanned
        return checked


@dataclass(frozen=True)
class _Call:
    """A dependant's callable with its parameters read per request."""

    call: Callable[..., Coroutine[Any, Any, Any]]
    parameters: tuple[_Parameter, ...]
    request_name: str | None

    @classmethod
    def of(cls, dependant: Dependant) -> _Call:
        call = dependant.call
        special = (
            dependant.header_params,
            dependant.cookie_params,
            dependant.body_params,
            dependant.websocket_param_name,
            dependant.http_connection_param_name,
            dependant.response_param_name,
            dependant.background_tasks_param_name,
            dependant.security_scopes_param_name,
            dependant.own_oauth_scopes,
            dependant.concurrency,
        )
        if call is None or not inspect.iscoroutinefunction(call) or any(special):
            raise _Unplanned
        fields: Sequence[Any] = [*dependant.path_params, *dependant.query_params]
        return cls(call, tuple(_Parameter.of(field) for field in fields), dependant.request_param_name)

    def arguments(self, request: Request) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for parameter in self.parameters:
            values[parameter.name] = parameter.read(request, values)
        if self.request_name:
            values[self.request_name] = request
        return values


class PlannedRoute(APIRoute):
    """An API route whose plainly valid requests skip FastAPI's per-request dependency solving (module docstring)."""

    def get_route_handler(self) -> Handler:
        general = super().get_route_handler()
        try:
            planned = self._planned_handler(general)
        except _Unplanned:
            return general
        return planned

    def _planned_handler(self, general: Handler) -> Handler:
        dependant = self.dependant
        if len(dependant.dependencies) > 1 or self.response_field is None:
            raise _Unplanned
        if not isinstance(self.response_class, DefaultPlaceholder) or self.status_code not in (None, 200):
            raise _Unplanned
        dependency = None
        if dependant.dependencies:
            sub = dependant.dependencies[0]
            if sub.dependencies or sub.name is None:
                raise _Unplanned
            dependency = (sub.name, _Call.of(sub))
        endpoint = _Call.of(dependant)
        route = self

        async def handler(request: Request) -> Response:
            overrides = route.dependency_overrides_provider
            if overrides is not None and getattr(overrides, "dependency_overrides", None):
                return await general(request)
            try:  # every parameter read before anything runs, so that FastAPI can take over from the start
                given = dependency[1].arguments(request) if dependency else {}
                values = endpoint.arguments(request)
            except _Unplanned:
                return await general(request)
            if dependency:
                values[dependency[0]] = await dependency[1].call(**given)
            answer = await endpoint.call(**values)
            if isinstance(answer, Response):
                return answer
            content = await serialize_response(
                field=route.response_field,
                response_content=answer,
                include=route.response_model_include,
                exclude=route.response_model_exclude,
                by_alias=route.response_model_by_alias,
                exclude_unset=route.response_model_exclude_unset,
                exclude_defaults=route.response_model_exclude_defaults,
                exclude_none=route.response_model_exclude_none,
                dump_json=True,
            )
            return Response(content=content, media_type="application/json")

        return handler
