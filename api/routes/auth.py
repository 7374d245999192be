"""Sign in (OAuth2 password flow), sign out, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import COOKIE, Viewer, client_address, session_or_none, set_session_cookie
from api.deps import ContextDep
from api.errors import too_many
from api.schemas import TokenOut, UserOut
from meters.attempt_limits import account_key, sign_in_keys
from meters.views import Actor

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    context: ContextDep,
    request: Request,
    response: Response,
) -> TokenOut:
    """A bearer token for API clients; the dashboard also gets it as an HttpOnly cookie.
    Failed attempts are limited per account and per address (meters.attempt_limits: a
    lock answers 429 with Retry-After, kept in the registry); each sign-in, the first
    failure of a window and each lock are in the audit log with the caller's address."""
    now_ms = context.clock()
    source = client_address(request)
    name = form.username[:64]
    keys = sign_in_keys(name, source)
    limits = context.registry.attempt_limits
    wait_ms = limits.wait_ms(keys, now_ms)
    # locked: no password is checked, no audit row per try
    too_many(wait_ms, "too many failed sign-ins (an admin can unlock the account)")
    if not context.hashing.acquire(timeout=context.hashing_wait_s):
        raise HTTPException(503, detail="sign-in is busy; try again shortly")
    try:
        user = context.registry.accounts.authenticate(form.username, form.password)
    finally:
        context.hashing.release()
    if user is None:
        account, _address = limits.failed(keys, now_ms)
        attempt = Actor(name, "unknown", source)
        if account.failures == 1 or account.locked_until_ms > now_ms:
            # the first failure of a window, and each lock: not one row per guess
            action = "auth.refused" if account.locked_until_ms <= now_ms else "auth.locked"
            detail = {"failures": account.failures, "locked_until_ms": account.locked_until_ms}
            context.registry.audit.record(attempt, action, f"user:{name}", "", detail, now_ms)
        raise HTTPException(
            401, detail="wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    limits.clear(account_key(user.username))
    issued = context.tokens.issue(user.username, user.token_version)
    actor = Actor(user.username, user.role, source)
    context.registry.audit.record(actor, "auth.sign_in", f"user:{user.username}", "", {}, now_ms)
    set_session_cookie(response, issued, context.tokens.ttl_s, context.secure_cookies)
    return TokenOut(
        access_token=issued.token,
        token_type="bearer",
        expires_in=context.tokens.ttl_s,
        username=user.username,
        role=user.role,
    )


@router.post("/logout", status_code=204)
def sign_out(request: Request, response: Response, context: ContextDep) -> Response:
    """End the caller's sessions (every token of the account, at once: a per-account
    token version), audited; without a valid session only the cookie goes."""
    session = session_or_none(request)
    if session is not None:
        user = session.user
        actor = Actor(user.username, user.role, client_address(request))
        accounts = context.registry.accounts
        accounts.sign_out(user.username, actor, context.clock(), "auth.sign_out")
    response.delete_cookie(COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=UserOut)
def who_am_i(actor: Viewer, context: ContextDep) -> UserOut:
    user = context.registry.accounts.get(actor.username)
    return UserOut(username=user.username, role=user.role, display_name=user.display_name)
