"""Bearer tokens on the HTTP doors: 401 without a token or with one we do not know,
403 when the token's role may not do what is asked."""

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.intake.domain.roles import Permission, Role, may

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def _known(tokens: dict[str, Role], given: str) -> Role | None:
    # Compared in constant time against every token, so timing tells nothing.
    found = None
    for token, role in tokens.items():
        if secrets.compare_digest(given.encode(), token.encode()):
            found = role
    return found


class StaffAuth:
    def __init__(self, tokens: dict[str, Role]) -> None:
        self.tokens = tokens

    def require(self, permission: Permission) -> Callable[..., Role]:
        """A FastAPI dependency: the caller's role, when it may do `permission`."""

        def staff_role(credentials: Credentials) -> Role:
            if credentials is None:
                raise _unauthorised("a staff bearer token is required")
            role = _known(self.tokens, credentials.credentials)
            if role is None:
                raise _unauthorised("this bearer token is not a staff token")
            if not may(role, permission):
                raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {role} role may not {permission}")
            return role

        return staff_role


def provider_guard(tokens: frozenset[str]) -> Callable[..., str]:
    """A mail provider's webhook: 401 without a token, 403 with one that is not a provider's."""

    def provider(credentials: Credentials) -> str:
        if credentials is None:
            raise _unauthorised("a mail provider bearer token is required")
        if not any(secrets.compare_digest(credentials.credentials.encode(), t.encode()) for t in tokens):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this token may not use the mail provider API")
        return credentials.credentials

    return provider
