from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status

from orgconnectors.api import tokens
from orgconnectors.api.access import caller_actor, caller_membership, caller_token, needs_scope
from orgconnectors.api.messages_api_schemas import (
    ApiTokenCreatedOut,
    ApiTokenCreateIn,
    ApiTokenOut,
)
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS
from orgconnectors.api.scopes import ANY_SCOPE, READ
from orgconnectors.core.errors import ServiceError

router = Router(tags=["api tokens"])


@router.get(
    "/{org}/api-tokens",
    response={200: list[ApiTokenOut], **ACCESS_ERRORS},
    operation_id="api_token_list",
    summary="Your personal API tokens in this organization (never the tokens themselves)",
)
@needs_scope(READ)
def api_token_list(request, org: str):
    membership = caller_membership(request, org)
    return tokens.api_tokens_of(membership=membership)


@router.post(
    "/{org}/api-tokens",
    response={201: ApiTokenCreatedOut, **INPUT_ERRORS},
    operation_id="api_token_create",
    summary="Create a personal API token; the answer shows it this once",
    description="Choose its `scopes` (default: all your role allows) and when it expires "
    "(`expires_in_days` or `expires_at`; default 90 days, at most 365). Called with a token, "
    "the new one gets no more scope and no later expiry than that token (403 otherwise). "
    "Only a hash is stored.",
)
@needs_scope(ANY_SCOPE)
def api_token_create(request, org: str, payload: ApiTokenCreateIn):
    membership = caller_membership(request, org)
    expires_at = payload.expires_at
    if payload.expires_in_days is not None:
        if expires_at is not None:
            raise ServiceError("Give expires_at or expires_in_days, not both.", field="expires_at")
        expires_at = timezone.now() + timedelta(days=payload.expires_in_days)
    api_token, token = tokens.api_token_create(
        membership=membership,
        name=payload.name,
        scopes=payload.scopes,
        expires_at=expires_at,
        issued_by=caller_token(request),
        actor=caller_actor(request),
    )
    api_token.token = token
    return Status(201, api_token)


@router.delete(
    "/{org}/api-tokens/{token_id}",
    response={204: None, **INPUT_ERRORS},
    operation_id="api_token_revoke",
    summary="Revoke one of your own tokens; apps using it stop working at once",
)
@needs_scope(ANY_SCOPE)
def api_token_revoke(request, org: str, token_id: int):
    membership = caller_membership(request, org)
    api_token = get_object_or_404(tokens.api_tokens_of(membership=membership), pk=token_id)
    tokens.api_token_revoke(api_token=api_token, actor=caller_actor(request))
    return Status(204, None)
