"""Sign in (OAuth2 password flow), sign out, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import COOKIE, Viewer, client_address, session_of, set_session_cookie
from api.deps import ContextDep
from api.schemas import TokenOut, UserOut
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
    Every attempt, refused or not, is in the audit log with the caller's address."""
    now_ms = context.clock()
    source = client_address(request)
    user = context.registry.accounts.authenticate(form.username, form.password)
    if user is None:
        attempt = Actor(form.username[:64], "unknown", source)
        context.registry.audit(
            attempt, "auth.refused", f"user:{form.username[:64]}", "", {}, now_ms
        )
        raise HTTPException(
            401, detail="wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    issued = context.tokens.issue(user.username, user.token_version)
    actor = Actor(user.username, user.role, source)
    context.registry.audit(actor, "auth.sign_in", f"user:{user.username}", "", {}, now_ms)
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
    try:
        session = session_of(request)
    except HTTPException:
        session = None
    if session is not None:
        user = session.user
        context.registry.accounts.sign_out_everywhere(user.username)
        actor = Actor(user.username, user.role, client_address(request))
        context.registry.audit(
            actor, "auth.sign_out", f"user:{user.username}", "", {}, context.clock()
        )
    response.delete_cookie(COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=UserOut)
def who_am_i(actor: Viewer, context: ContextDep) -> UserOut:
    user = context.registry.accounts.get(actor.username)
    return UserOut(username=user.username, role=user.role, display_name=user.display_name)
