"""Certificates from the landlord's CSV: good rows kept, each bad one named by line and
problem, never by its values."""

from datetime import date

import pytest

from shared.events.compliance import CertificateKind
from services.scheduler.compliance.certificate_rows import BadFile, read_certificates

TODAY = date(2026, 12, 1)
HEADER = "kind,property_id,block_id,checked_on,review_on,certificate\n"


def read(*rows: str):  # type: ignore[no-untyped-def]
    return read_certificates([HEADER, *(r + "\n" for r in rows)], TODAY)


def test_good_rows_of_every_kind_are_read():
    good, bad = read(
        "gas_safety,P1,,2026-08-15,,GS-1",
        "electrical_installation,P1,,2024-02-01,,",
        "fire_risk_assessment,,B7,2026-03-01,2027-03-01,",
    )
    assert bad == []
    assert [(line, c.kind, c.subject_id) for line, c in good] == [
        (2, CertificateKind.GAS_SAFETY, "P1"),
        (3, CertificateKind.ELECTRICAL_INSTALLATION, "P1"),
        (4, CertificateKind.FIRE_RISK_ASSESSMENT, "B7"),
    ]
    assert good[0][1].id == "GS-1"
    assert good[2][1].review_on == date(2027, 3, 1)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("boiler,P1,,2026-08-15,,", "kind: expected one of"),
        ("gas_safety,,,2026-08-15,,", "property_id: missing for gas_safety"),
        ("fire_risk_assessment,P1,,2026-08-15,,", "block_id: missing for fire_risk_assessment"),
        ("gas_safety,P1,,15/08/2026,,", "checked_on: not a date"),
        ("gas_safety,P1,,,,", "checked_on: missing"),
        ("gas_safety,P1,,2027-01-01,,", "checked_on: is in the future"),
        ("gas_safety,P1,,2026-08-15,2027-08-15,", "review_on: only a fire risk assessment"),
        ("fire_risk_assessment,,B1,2026-08-15,2026-08-01,", "review_on: must be after checked_on"),
        ("gas_safety," + "P" * 65 + ",,2026-08-15,,", "property_id: longer than 64"),
    ],
)
def test_each_bad_row_is_rejected_with_its_line_and_reason(row: str, reason: str):
    good, bad = read("gas_safety,P9,,2026-01-01,,", row)
    assert [c.subject_id for _, c in good] == ["P9"]
    assert len(bad) == 1 and bad[0].line == 3
    assert any(r.startswith(reason) for r in bad[0].reasons), bad[0].reasons
    assert "P" * 65 not in str(bad[0])


def test_a_file_without_the_needed_columns_is_refused_whole():
    with pytest.raises(BadFile, match="checked_on"):
        read_certificates(["kind,property_id\n", "gas_safety,P1\n"], TODAY)
    with pytest.raises(BadFile, match="property_id or block_id"):
        read_certificates(["kind,checked_on\n"], TODAY)
