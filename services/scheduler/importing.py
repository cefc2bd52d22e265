"""`doorstep import KIND file.csv`: the landlord's own systems are the source of homes,
tenancies and contractors. Each row is validated on its own; valid rows are upserted (by
id), rejected ones reported with their row number and the reason, never their values
(a row may hold a tenant's name, number or email).

Add a kind by adding one `Kind` to `KINDS`.
"""

import csv
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduler.adapters.tables import blocks, contractors, properties, tenancies

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
YES, NO = frozenset({"yes", "y", "true", "1"}), frozenset({"no", "n", "false", "0"})


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in YES:
            return True
        if word in NO:
            return False
        raise ValueError("must be yes or no")
    return value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _postcode(value: str) -> str:
    normal = " ".join(value.upper().split())
    if not POSTCODE.match(normal):
        raise ValueError("not a UK postcode")
    return normal


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not (phonenumbers.is_valid_number(number) or _fictional(number)):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _fictional(number: phonenumbers.PhoneNumber) -> bool:
    """Ofcom's ranges for drama and tests (07700 900xxx, 020 7946 0xxx): unallocated, so
    not "valid", but the right shape; the test data uses them."""
    national = str(number.national_number)
    return number.country_code == 44 and len(national) == 10 and national.startswith(("7700900", "2079460"))


def _email(value: str) -> str:
    if not EMAIL.match(value.strip()):
        raise ValueError("not an email address")
    return value.strip()


def _list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[;|]", value) if part.strip()]
    return value


def _districts(values: list[str]) -> list[str]:
    normal = [v.upper() for v in values]
    if not normal or not all(DISTRICT.match(v) for v in normal):
        raise ValueError("must be postcode districts such as SE15;SE22")
    return normal


def _weekdays(value: Any) -> Any:
    """'Mon-Fri', 'Mon-Sat' or 'Mon;Wed;Sat' -> ISO weekday numbers."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if "-" in text:
        first, _, last = (part.strip()[:3] for part in text.partition("-"))
        if first not in WEEKDAYS or last not in WEEKDAYS or WEEKDAYS[first] > WEEKDAYS[last]:
            raise ValueError("must be days such as Mon-Fri or Mon;Wed;Sat")
        return list(range(WEEKDAYS[first], WEEKDAYS[last] + 1))
    days = [part.strip()[:3] for part in re.split(r"[;|]", text) if part.strip()]
    if not days or any(d not in WEEKDAYS for d in days):
        raise ValueError("must be days such as Mon-Fri or Mon;Wed;Sat")
    return sorted({WEEKDAYS[d] for d in days})


Text = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
Postcode = Annotated[str, AfterValidator(_postcode)]
Phone = Annotated[str, AfterValidator(_phone)]
OptionalPhone = Annotated[Phone | None, BeforeValidator(_blank_to_none)]
OptionalEmail = Annotated[Annotated[str, AfterValidator(_email)] | None, BeforeValidator(_blank_to_none)]
OptionalId = Annotated[Id | None, BeforeValidator(_blank_to_none)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PropertyRow(_Row):
    id: Id
    address: Annotated[str, Field(min_length=1, max_length=300)]
    postcode: Postcode
    has_gas: YesNo
    year_built: Annotated[
        Annotated[int, Field(ge=1700, le=date.today().year)] | None, BeforeValidator(_blank_to_none)
    ] = None
    block_id: OptionalId = None
    block_name: Annotated[str | None, BeforeValidator(_blank_to_none)] = None


class TenancyRow(_Row):
    id: Id
    property_id: Id
    tenant_name: Text
    mobile: OptionalPhone = None
    email: OptionalEmail = None
    preferred_channel: Annotated[
        str,
        BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
        Field(pattern="^(sms|email)$"),
    ] = "sms"
    active: YesNo = True

    @model_validator(mode="after")
    def _reachable(self) -> "TenancyRow":
        if not (self.mobile or self.email):
            raise ValueError("needs a mobile or an email address")
        if self.preferred_channel == "email" and not self.email:
            raise ValueError("prefers email but has no email address")
        if self.preferred_channel == "sms" and not self.mobile:
            raise ValueError("prefers texts but has no mobile")
        return self


class ContractorRow(_Row):
    id: Id
    name: Text
    phone: Phone
    trades: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z_]+$")]], BeforeValidator(_list), Field(min_length=1)
    ]
    areas: Annotated[list[str], BeforeValidator(_list), AfterValidator(_districts)]
    working_days: Annotated[list[int], BeforeValidator(_weekdays)]
    capacity_per_slot: Annotated[int, Field(ge=1, le=50)]
    emergency_rota: YesNo = False
    token_sha256: Annotated[
        Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None, BeforeValidator(_blank_to_none)
    ] = None


# -- the run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    row: int  # the line in the file, the header being line 1
    reason: str


@dataclass
class Report:
    kind: str
    accepted: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = f"{self.kind}: {self.accepted} imported, {len(self.rejected)} rejected"
        return [head, *(f"  row {r.row}: {r.reason}" for r in self.rejected)]


Check = Callable[[AsyncSession, BaseModel], Awaitable[str | None]]


async def _no_check(_: AsyncSession, __: BaseModel) -> str | None:
    return None


async def _property_known(session: AsyncSession, row: BaseModel) -> str | None:
    found = await session.scalar(select(properties.c.id).where(properties.c.id == row.property_id))  # type: ignore[attr-defined]
    return None if found else "property_id: no such property (import properties first)"


async def _write_property(session: AsyncSession, row: PropertyRow) -> None:
    if row.block_id:
        await upsert(session, blocks, {"id": row.block_id, "name": row.block_name or row.block_id})
    await upsert(session, properties, row.model_dump(exclude={"block_name"}))


@dataclass(frozen=True)
class Kind:
    model: type[BaseModel]
    write: Callable[[AsyncSession, Any], Awaitable[None]]
    check: Check = _no_check


async def _write_tenancy(session: AsyncSession, row: TenancyRow) -> None:
    await upsert(session, tenancies, row.model_dump())


async def _write_contractor(session: AsyncSession, row: ContractorRow) -> None:
    values = row.model_dump()
    if values["token_sha256"] is None:
        del values["token_sha256"]  # an import without tokens keeps the ones already set
    await upsert(session, contractors, values)


KINDS: dict[str, Kind] = {
    "properties": Kind(PropertyRow, _write_property),
    "tenancies": Kind(TenancyRow, _write_tenancy, _property_known),
    "contractors": Kind(ContractorRow, _write_contractor),
}


async def import_rows(session: AsyncSession, kind: str, rows: Iterable[dict[str, str]]) -> Report:
    """Validate and upsert each row, inside the caller's transaction."""
    spec = KINDS[kind]
    report = Report(kind)
    for number, raw in enumerate(rows, start=2):
        try:
            row = spec.model.model_validate(_without_blank_keys(raw))
        except ValidationError as error:
            report.rejected.append(Rejected(number, describe(error)))
            continue
        problem = await spec.check(session, row)
        if problem:
            report.rejected.append(Rejected(number, problem))
            continue
        await spec.write(session, row)
        report.accepted += 1
    return report


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def describe(error: ValidationError) -> str:
    """Which fields are wrong and why, never what they held."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if not isinstance(p, int)) or 'row'}: {_reason(e)}"
        for e in error.errors(include_input=False, include_url=False)
    )


def _reason(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown column"
    if error["type"] == "missing":
        return "missing"
    return str(error["msg"]).removeprefix("Value error, ")


def _without_blank_keys(raw: dict[str, Any]) -> dict[str, Any]:
    # DictReader gives None as the key of cells beyond the header: a malformed row.
    return {k: v for k, v in raw.items() if k is not None and v is not None} | (
        {"__extra_cells__": "x"} if None in raw else {}
    )


async def upsert(session: AsyncSession, table: Table, values: dict[str, Any]) -> None:
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    changes = {k: statement.excluded[k] for k in values if k != "id"}
    await session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changes))
