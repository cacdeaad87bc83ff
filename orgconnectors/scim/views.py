"""The SCIM 2.0 endpoint of each organization, `/scim/v2/{org}/` (RFC 7644), served with
scim2-models: parse and validate the request, call one identity service or selector, render.
Every request carries one of the organization's SCIM tokens; another organization's token,
a revoked one or none is a 401, all alike."""

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    Group,
    ListResponse,
    PatchOp,
    ResponseParameters,
    SCIMException,
    SearchRequest,
    User,
)

from orgconnectors.core.actor import Actor
from orgconnectors.identity import selectors, services
from orgconnectors.identity.errors import ScimError
from orgconnectors.identity.scim_tokens import scim_token_check
from orgconnectors.scim import resources

CONTENT_TYPE = "application/scim+json"


def _answer(payload: dict | None, status: int = 200, location: str | None = None) -> HttpResponse:
    response = HttpResponse(
        b"" if payload is None else json.dumps(payload), status=status, content_type=CONTENT_TYPE
    )
    if location:
        response["Location"] = location
    response["Cache-Control"] = "no-store"
    return response


def _resource_answer(request, resource, ctx, *, status: int = 200, location=None) -> HttpResponse:
    """A resource as the client asked to see it (`attributes`, `excludedAttributes`)."""
    payload = resource.model_dump(scim_ctx=ctx, response_parameters=_response_parameters(request))
    return _answer(payload, status=status, location=location)


def _replacement(request, model, current):
    """PUT: the body as the new resource; PATCH: the current resource (`current()`) with the
    body's operations applied. With the context to answer in, or (None, None) for other methods."""
    if request.method == "PUT":
        ctx = Context.RESOURCE_REPLACEMENT_REQUEST
        return model.model_validate(_body(request), scim_ctx=ctx), (
            Context.RESOURCE_REPLACEMENT_RESPONSE
        )
    if request.method == "PATCH":
        patch = PatchOp[model].model_validate(
            _body(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
        )
        resource = current()
        patch.patch(resource)
        return resource, Context.RESOURCE_PATCH_RESPONSE
    return None, None


def _error(status: int, detail: str, scim_type: str | None = None) -> HttpResponse:
    error = Error(status=status, scim_type=scim_type, detail=detail)
    response = _answer(error.model_dump(), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


def _body(request) -> dict:
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ScimError("The body is not JSON.", scim_type="invalidSyntax") from None
    if not isinstance(payload, dict):
        raise ScimError("The body must be a JSON object.", scim_type="invalidSyntax")
    return payload


def scim_view(view: Callable) -> Callable:
    """Authenticate the organization's SCIM token and turn every refusal into a SCIM Error."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, org: str, *args, **kwargs):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, secret = header.partition(" ")
        token = (
            scim_token_check(organization_slug=org, secret=secret.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if token is None:
            return _error(401, "A valid SCIM token of this organization is required.")
        request.scim_organization = token.organization
        request.scim_base = request.build_absolute_uri(f"/scim/v2/{org}/")
        request.scim_actor = Actor(
            label=f"SCIM token {token.name} ({token.prefix}…)",
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
        )
        try:
            return view(request, *args, **kwargs)
        except ScimError as error:
            return _error(error.status, error.message, error.scim_type)
        except SCIMException as error:
            return _answer(error.to_error().model_dump(), status=int(error.status))
        except ValidationError as error:
            errors = Error.from_validation_errors(error)
            first = errors[0] if errors else Error(status=400, detail="The request is invalid.")
            return _answer(first.model_dump(), status=int(first.status or 400))

    return wrapper


def _not_allowed(*methods: str) -> HttpResponse:
    response = _error(405, f"This endpoint answers {', '.join(methods)}.")
    response["Allow"] = ", ".join(methods)
    return response


def _response_parameters(request) -> ResponseParameters:
    params = {
        key: request.GET[key] for key in ("attributes", "excludedAttributes") if key in request.GET
    }
    return ResponseParameters.model_validate(params)


def _search(request, model, found) -> HttpResponse:
    """A page of `found` (resources) matching the request's filter, sorted, with the attributes
    asked for. The organization's records are matched in memory: a page is at most MAX_RESULTS."""
    if request.method == "POST":
        params = _body(request)
    else:
        params = {key: request.GET[key] for key in request.GET}
    search = SearchRequest[model].model_validate(params, scim_ctx=Context.SEARCH_REQUEST)
    if search.filter is not None:
        found = [resource for resource in found if search.filter.match(resource)]
    found = search.sort(found)
    start = max(search.start_index or 1, 1)
    count = (
        resources.MAX_RESULTS if search.count is None else min(search.count, resources.MAX_RESULTS)
    )
    page = found[start - 1 : start - 1 + count]
    listed = ListResponse[model](
        total_results=len(found), start_index=start, items_per_page=len(page), resources=page
    )
    return _answer(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search))


def _users(request) -> list[User]:
    rows = selectors.scim_users_of(organization=request.scim_organization)
    return [resources.user_resource(row, request.scim_base) for row in rows]


def _groups(request) -> list[Group]:
    rows = selectors.scim_groups_of(organization=request.scim_organization)
    return [resources.group_resource(row, request.scim_base) for row in rows]


@scim_view
def search(request):
    if request.method != "POST":
        return _not_allowed("POST")
    return _search(request, User | Group, [*_users(request), *_groups(request)])


@scim_view
def users(request):
    organization = request.scim_organization
    if request.method == "GET":
        return _search(request, User, _users(request))
    if request.method != "POST":
        return _not_allowed("GET", "POST")
    user = User.model_validate(_body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    scim_user = services.scim_user_create(
        organization=organization,
        person=resources.person_from(user, Context.RESOURCE_CREATION_REQUEST),
        actor=request.scim_actor,
    )
    created = resources.user_resource(scim_user, request.scim_base)
    return _resource_answer(
        request,
        created,
        Context.RESOURCE_CREATION_RESPONSE,
        status=201,
        location=created.meta.location,
    )


@scim_view
def users_search(request):
    if request.method != "POST":
        return _not_allowed("POST")
    return _search(request, User, _users(request))


@scim_view
def user(request, scim_id: str):
    organization = request.scim_organization
    scim_user = selectors.scim_user_get(organization=organization, scim_id=scim_id)
    if request.method == "GET":
        return _resource_answer(
            request,
            resources.user_resource(scim_user, request.scim_base),
            Context.RESOURCE_QUERY_RESPONSE,
        )
    if request.method == "DELETE":
        services.scim_user_delete(scim_user=scim_user, actor=request.scim_actor)
        return _answer(None, status=204)
    replacement, answer_ctx = _replacement(
        request, User, lambda: resources.user_resource(scim_user, request.scim_base)
    )
    if replacement is None:
        return _not_allowed("GET", "PUT", "PATCH", "DELETE")
    services.scim_user_replace(
        scim_user=scim_user,
        person=resources.person_from(replacement, Context.RESOURCE_REPLACEMENT_REQUEST),
        actor=request.scim_actor,
    )
    scim_user = selectors.scim_user_get(organization=organization, scim_id=scim_id)
    return _resource_answer(
        request, resources.user_resource(scim_user, request.scim_base), answer_ctx
    )


@scim_view
def groups(request):
    organization = request.scim_organization
    if request.method == "GET":
        return _search(request, Group, _groups(request))
    if request.method != "POST":
        return _not_allowed("GET", "POST")
    group = Group.model_validate(_body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    row = services.scim_group_create(
        organization=organization,
        team=resources.team_from(group, Context.RESOURCE_CREATION_REQUEST),
        actor=request.scim_actor,
    )
    row = selectors.scim_group_get(organization=organization, scim_id=str(row.pk))
    created = resources.group_resource(row, request.scim_base)
    return _resource_answer(
        request,
        created,
        Context.RESOURCE_CREATION_RESPONSE,
        status=201,
        location=created.meta.location,
    )


@scim_view
def groups_search(request):
    if request.method != "POST":
        return _not_allowed("POST")
    return _search(request, Group, _groups(request))


@scim_view
def group(request, scim_id: str):
    organization = request.scim_organization
    row = selectors.scim_group_get(organization=organization, scim_id=scim_id)
    if request.method == "GET":
        return _resource_answer(
            request,
            resources.group_resource(row, request.scim_base),
            Context.RESOURCE_QUERY_RESPONSE,
        )
    if request.method == "DELETE":
        services.scim_group_delete(group=row, actor=request.scim_actor)
        return _answer(None, status=204)
    replacement, answer_ctx = _replacement(
        request, Group, lambda: resources.group_resource(row, request.scim_base)
    )
    if replacement is None:
        return _not_allowed("GET", "PUT", "PATCH", "DELETE")
    services.scim_group_replace(
        group=row,
        team=resources.team_from(replacement, Context.RESOURCE_REPLACEMENT_REQUEST),
        actor=request.scim_actor,
    )
    row = selectors.scim_group_get(organization=organization, scim_id=scim_id)
    return _resource_answer(request, resources.group_resource(row, request.scim_base), answer_ctx)


@scim_view
def service_provider_config(request):
    if request.method != "GET":
        return _not_allowed("GET")
    config = resources.service_provider_config(request.scim_base)
    return _answer(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _listing(model, items) -> HttpResponse:
    listed = ListResponse[model](
        total_results=len(items), start_index=1, items_per_page=len(items), resources=items
    )
    return _answer(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


@scim_view
def resource_types(request, type_id: str | None = None):
    if request.method != "GET":
        return _not_allowed("GET")
    types = resources.resource_types(request.scim_base)
    if type_id is None:
        return _listing(type(types[0]), types)
    for resource_type in types:
        if resource_type.id == type_id:
            return _answer(resource_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return _error(404, f"There is no resource type {type_id!r}.")


@scim_view
def schemas(request, schema_id: str | None = None):
    if request.method != "GET":
        return _not_allowed("GET")
    found = resources.schemas(request.scim_base)
    if schema_id is None:
        return _listing(type(found[0]), found)
    for schema in found:
        if schema.id == schema_id:
            return _answer(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return _error(404, f"There is no schema {schema_id!r}.")


@scim_view
def unknown(request, rest: str):
    return _error(404, f"This SCIM service has no endpoint {rest!r}.")
