"""Reading certificates from the landlord's CSV export, row by row (pure).

Columns: `kind` (gas_safety, electrical_installation, fire_risk_assessment),
`property_id` (gas and electrical) or `block_id` (fire risk assessments), `checked_on`
(YYYY-MM-DD), and optionally `review_on` (fire risk assessments: the assessor's review
date) and `certificate` (the certificate's own number). A bad row is reported with its
row number (the line in the file) and what is wrong with it, and the good rows still go in."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from shared.events.compliance import CertificateKind
from services.scheduler.compliance.recording import Certificate

REQUIRED_COLUMNS = frozenset({"kind", "checked_on"})
MAX_ID = 64


@dataclass(frozen=True)
class Rejected:
    line: int
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"row {self.line}: {'; '.join(self.reasons)}"


class BadFile(ValueError):
    """The file as a whole cannot be read (no header, missing columns)."""


def read_certificates(
    lines: Iterable[str], today: date
) -> tuple[list[tuple[int, Certificate]], list[Rejected]]:
    reader = csv.DictReader(lines)
    columns = {name.strip() for name in reader.fieldnames or []}
    missing = REQUIRED_COLUMNS - columns
    if missing or not columns & {"property_id", "block_id"}:
        wanted = sorted(missing) or ["property_id or block_id"]
        raise BadFile(f"the header lacks {', '.join(wanted)}")
    good: list[tuple[int, Certificate]] = []
    bad: list[Rejected] = []
    for row in reader:
        line = reader.line_num
        fields = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        certificate, reasons = parse_row(fields, today)
        if certificate is None:
            bad.append(Rejected(line, tuple(reasons)))
        else:
            good.append((line, certificate))
    return good, bad


def parse_row(row: dict[str, str], today: date) -> tuple[Certificate | None, list[str]]:
    reasons: list[str] = []
    kind = _kind(row.get("kind", ""), reasons)
    checked_on = _date(row, "checked_on", reasons, required=True)
    review_on = _date(row, "review_on", reasons, required=False)
    if checked_on and checked_on > today:
        reasons.append("checked_on: is in the future")
    subject = _subject(row, kind, reasons)
    if review_on and kind is not CertificateKind.FIRE_RISK_ASSESSMENT:
        reasons.append("review_on: only a fire risk assessment has a review date")
    if review_on and checked_on and review_on <= checked_on:
        reasons.append("review_on: must be after checked_on")
    number = row.get("certificate") or None
    if number and len(number) > MAX_ID:
        reasons.append(f"certificate: longer than {MAX_ID} characters")
    if reasons or kind is None or checked_on is None or subject is None:
        return None, reasons
    return Certificate(kind, subject, checked_on, review_on, number), []


def _kind(text: str, reasons: list[str]) -> CertificateKind | None:
    try:
        return CertificateKind(text)
    except ValueError:
        reasons.append(f"kind: expected one of {', '.join(k.value for k in CertificateKind)}")
        return None


def _date(row: dict[str, str], column: str, reasons: list[str], required: bool) -> date | None:
    text = row.get(column, "")
    if not text:
        if required:
            reasons.append(f"{column}: missing")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        reasons.append(f"{column}: not a date (YYYY-MM-DD)")
        return None


def _subject(row: dict[str, str], kind: CertificateKind | None, reasons: list[str]) -> str | None:
    column = "block_id" if kind is CertificateKind.FIRE_RISK_ASSESSMENT else "property_id"
    subject = row.get(column, "")
    if kind is not None and not subject:
        reasons.append(f"{column}: missing for {kind}")
        return None
    if len(subject) > MAX_ID:
        reasons.append(f"{column}: longer than {MAX_ID} characters")
        return None
    return subject or None
