"""Who on the staff may do what (pure): a bearer token names a role, a role its permissions."""

from enum import StrEnum


class Permission(StrEnum):
    VIEW = "view"
    LOG_CONTACT = "log_contact"  # letters, calls and visits
    REPLY = "reply"
    CLOSE = "close"
    HANDLE_COMPLAINT = "handle_complaint"  # acknowledge, respond, extend
    ESCALATE = "escalate"


class Role(StrEnum):
    CUSTOMER_SERVICE = "customer_service"
    REPAIRS = "repairs"
    COMPLAINTS = "complaints"
    MANAGER = "manager"
    AUDITOR = "auditor"  # reads cases, changes nothing


_FRONT_DESK = {Permission.VIEW, Permission.LOG_CONTACT, Permission.REPLY, Permission.CLOSE}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER_SERVICE: frozenset(_FRONT_DESK),
    Role.REPAIRS: frozenset(_FRONT_DESK),
    Role.COMPLAINTS: frozenset(_FRONT_DESK | {Permission.HANDLE_COMPLAINT, Permission.ESCALATE}),
    Role.MANAGER: frozenset(Permission),
    Role.AUDITOR: frozenset({Permission.VIEW}),
}

# A token configured without a role (the earlier "token,token" form) may do everything.
UNSTATED = Role.MANAGER


class BadTokenList(ValueError):
    """The configured tokens cannot be read; the message names the entry, never the token."""


def parse_tokens(configured: str) -> dict[str, Role]:
    """`token:role,token:role` (or a bare `token`, meaning every permission)."""
    tokens: dict[str, Role] = {}
    for position, entry in enumerate(e.strip() for e in configured.split(",")):
        if not entry:
            continue
        token, _, role = entry.partition(":")
        try:
            tokens[token.strip()] = Role(role.strip()) if role.strip() else UNSTATED
        except ValueError:
            known = ", ".join(Role)
            raise BadTokenList(f"staff token {position + 1} has an unknown role; use one of {known}") from None
    return tokens


def may(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]
