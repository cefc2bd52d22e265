"""The staff API's tokens and roles: 401 without a token or with an unknown one, 403
when the role may not do what is asked; staff log letters with the tenant's details,
see a case's reasons, and take a complaint to Stage 2 (complaint.escalated, once)."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
from sqlalchemy import select

from shared.db import migrate
from shared.service import Runtime
from shared.standards.loader import load_all
from services.intake.app import create_app
from services.intake.bootstrap import bootstrap
from services.intake.domain.roles import PERMISSIONS, BadTokenList, Permission, Role, parse_tokens
from services.intake.settings import IntakeSettings
from tests.component.conftest import NO_BROKER

TOKENS = {role: f"token-{role}" for role in Role}
LEGACY = "token-without-a-role"
CONFIGURED = ",".join(f"{token}:{role}" for role, token in TOKENS.items()) + f",{LEGACY}"
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC).isoformat()
LETTER = {"received_at": NOW, "text": "I am writing about my rent statement"}


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = IntakeSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}",
        kafka_bootstrap_servers=NO_BROKER,
        staff_tokens=CONFIGURED,
    )
    runtime = bootstrap(settings)
    await migrate(runtime.migrations, settings.database())
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def client(intake: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(intake, load_all())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://intake.test") as client:
        yield client


def as_role(role: Role | str) -> dict[str, str]:
    token = TOKENS[role] if isinstance(role, Role) else role
    return {"Authorization": f"Bearer {token}"}


async def events(runtime: Runtime, event_type: str) -> list[dict[str, Any]]:
    table = runtime.outbox.table
    async with runtime.sessions() as session:
        rows = (await session.execute(select(table).where(table.c.event_type == event_type))).all()
    return [json.loads(r.payload) for r in rows]


async def complaint(client: httpx.AsyncClient) -> str:
    body = {**LETTER, "text": "I want to make a formal complaint about the repair"}
    response = await client.post("/staff/letters", json=body, headers=as_role(Role.CUSTOMER_SERVICE))
    assert response.status_code == 201, response.text
    return response.json()["reference"]


# -- the tokens ----------------------------------------------------------------------------


async def test_no_token_is_401(client: httpx.AsyncClient):
    response = await client.post("/staff/letters", json=LETTER)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_unknown_token_is_401(client: httpx.AsyncClient):
    assert (await client.post("/staff/letters", json=LETTER, headers=as_role("guessed"))).status_code == 401


async def test_a_role_that_may_not_log_letters_is_403(client: httpx.AsyncClient):
    response = await client.post("/staff/letters", json=LETTER, headers=as_role(Role.AUDITOR))
    assert response.status_code == 403
    assert "auditor" in response.json()["detail"]


@pytest.mark.parametrize("role", [r for r in Role if Permission.LOG_CONTACT in PERMISSIONS[r]])
async def test_every_role_allowed_to_log_a_letter_can(client: httpx.AsyncClient, role: Role):
    assert (await client.post("/staff/letters", json=LETTER, headers=as_role(role))).status_code == 201


async def test_a_token_configured_without_a_role_may_do_everything(client: httpx.AsyncClient):
    reference = await complaint(client)
    response = await client.post(f"/staff/cases/{reference}/escalate", headers=as_role(LEGACY))
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("action", "allowed", "refused"),
    [
        ("acknowledge", Role.COMPLAINTS, Role.CUSTOMER_SERVICE),
        ("respond", Role.MANAGER, Role.REPAIRS),
        ("reply", Role.CUSTOMER_SERVICE, Role.AUDITOR),
        ("close", Role.REPAIRS, Role.AUDITOR),
    ],
)
async def test_actions_on_a_case_follow_the_role(client: httpx.AsyncClient, action: str, allowed: Role, refused: Role):
    reference = await complaint(client)
    url = f"/staff/cases/{reference}/{action}"
    assert (await client.post(url, json={}, headers=as_role(refused))).status_code == 403
    assert (await client.post(url, json={}, headers=as_role(allowed))).status_code == 202


def test_a_configured_role_that_does_not_exist_stops_start_up_without_showing_the_token():
    with pytest.raises(BadTokenList, match="token 2 has an unknown role") as refused:
        parse_tokens("a:manager,secret-value:wizard")
    assert "secret-value" not in str(refused.value)
    with pytest.raises(pydantic.ValidationError):
        IntakeSettings(staff_tokens="a:wizard")


def test_the_token_list_reads_roles_and_bare_tokens():
    assert parse_tokens(" a:complaints , b ,,") == {"a": Role.COMPLAINTS, "b": Role.MANAGER}


# -- what staff do -------------------------------------------------------------------------


async def test_staff_escalate_a_complaint_to_stage_2_once(client: httpx.AsyncClient, intake: Runtime):
    reference = await complaint(client)
    url = f"/staff/cases/{reference}/escalate"
    assert (await client.post(url, headers=as_role(Role.CUSTOMER_SERVICE))).status_code == 403
    first = await client.post(url, headers=as_role(Role.COMPLAINTS))
    again = await client.post(url, headers=as_role(Role.COMPLAINTS))
    assert first.status_code == again.status_code == 202
    assert first.json()["event_type"] == "complaint.escalated"
    (escalated,) = await events(intake, "complaint.escalated")
    assert escalated["reference"] == reference


async def test_only_a_complaint_can_be_escalated(client: httpx.AsyncClient):
    response = await client.post("/staff/letters", json=LETTER, headers=as_role(Role.MANAGER))
    url = f"/staff/cases/{response.json()['reference']}/escalate"
    assert (await client.post(url, headers=as_role(Role.MANAGER))).status_code == 404


async def test_a_letter_logged_with_the_tenants_details_carries_them(client: httpx.AsyncClient, intake: Runtime):
    body = {**LETTER, "email": "jo@example.org", "phone": "07700 900123", "property_id": "P-12", "tenancy_id": "T-7"}
    response = await client.post("/staff/letters", json=body, headers=as_role(Role.CUSTOMER_SERVICE))
    assert response.status_code == 201
    (opened,) = await events(intake, "case.opened")
    assert opened["contact"] == {"email": "jo@example.org", "phone": "07700 900123"}
    assert (opened["property_id"], opened["tenancy_id"]) == ("P-12", "T-7")
    assert opened["description"] == LETTER["text"]
    assert await events(intake, "notification.requested") == []  # staff answer letters themselves


async def test_staff_see_a_case_with_its_reasons(client: httpx.AsyncClient):
    body = {**LETTER, "text": "There is black mould and the window is broken"}
    reference = (await client.post("/staff/letters", json=body, headers=as_role(Role.REPAIRS))).json()["reference"]
    response = await client.get(f"/staff/cases/{reference}", headers=as_role(Role.AUDITOR))
    assert response.status_code == 200
    case = response.json()
    assert (case["kind"], case["priority"]) == ("repair_request", "emergency")
    assert {"rule": "damp-and-mould", "words": ["mould"]} in case["reasons"]
    assert "damp_and_mould" in case["flags"]
    assert "black mould" not in response.text  # the tenant's own words stay out of the view
    assert (await client.get(f"/staff/cases/{reference}")).status_code == 401
