"""Every promised message has a template; every template renders with its sample values,
normal and longest; texts stay within their segment limits; values never become markup;
a missing value is an error, not a blank; the safeguarding message says nothing about
the case."""

import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from shared.events.feedback import Aspect
from shared.events.notifications import NotificationChannel, Purpose
from services.cli.templates import check_all, template_names, used_variables
from services.notifier.adapters.jinja_templates import FOLDER, Templates
from services.notifier.domain.phones import sms_segments
from services.notifier.domain.template_catalogue import (
    CATALOGUE,
    SURVEY_ORDER,
    UnknownTemplate,
    required_only,
    sample,
    spec,
)

SMS, EMAIL = NotificationChannel.SMS, NotificationChannel.EMAIL
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert('x')</script>"
NEUTRAL = "safeguarding_neutral"

TEMPLATES = Templates()
NAMES = sorted(CATALOGUE)
SMS_NAMES = [name for name in NAMES if SMS in CATALOGUE[name].channels]
EMAIL_NAMES = [name for name in NAMES if EMAIL in CATALOGUE[name].channels]
REQUIRED = [(name, key) for name in NAMES for key in sorted(CATALOGUE[name].required)]


def render(name: str, channel: NotificationChannel, values: dict[str, str]) -> list[str]:
    """Every part a channel's message has, as text."""
    if channel is SMS:
        return [TEMPLATES.sms(name, values)]
    message = TEMPLATES.email(name, values)
    return [message.subject, message.text, message.html or ""]


@pytest.mark.parametrize("purpose", [p for p in Purpose if p is not Purpose.ACKNOWLEDGEMENT])
def test_every_purpose_has_a_template_of_the_same_name(purpose: Purpose):
    assert purpose.value in CATALOGUE
    assert any(TEMPLATES.has(purpose.value, channel) for channel in NotificationChannel)


def test_the_catalogue_and_the_template_folder_name_the_same_templates():
    assert template_names(TEMPLATES.env) == set(CATALOGUE)


@pytest.mark.parametrize("name", NAMES)
def test_the_files_match_the_channels_the_catalogue_names(name: str):
    wanted = spec(name)
    for channel in NotificationChannel:
        assert TEMPLATES.has(name, channel) == (channel in wanted.channels)
    if EMAIL in wanted.channels:
        assert (FOLDER / f"{name}.subject.j2").exists()
        assert (FOLDER / f"{name}.html.j2").exists()
    assert (wanted.sms_segments is not None) == (SMS in wanted.channels)


@pytest.mark.parametrize("name", NAMES)
def test_the_samples_give_every_required_value_and_nothing_undeclared(name: str):
    wanted = spec(name)
    for values in (sample(name), sample(name, long=True)):
        assert wanted.required <= values.keys() <= wanted.keys
        assert all(isinstance(value, str) and value for value in values.values())


@pytest.mark.parametrize("name", NAMES)
def test_the_templates_use_exactly_the_values_the_catalogue_names(name: str):
    wanted = spec(name)
    files = [f"{name}.sms.j2"] if SMS in wanted.channels else []
    files += [f"{name}.{part}.j2" for part in ("subject", "txt", "html")] if EMAIL in wanted.channels else []
    used = set().union(*(used_variables(TEMPLATES.env, file) for file in files))
    assert used == set(wanted.keys)


@pytest.mark.parametrize("long", [False, True], ids=["normal", "long"])
@pytest.mark.parametrize("name", NAMES)
def test_every_template_renders_with_its_samples_on_every_channel(name: str, long: bool):
    values = sample(name, long=long)
    for channel in spec(name).channels:
        parts = render(name, channel, values)
        assert all(part.strip() for part in parts)
        if name != NEUTRAL:
            assert all(values["reference"] in part for part in parts)
        for part in parts:
            assert "{{" not in part and "{%" not in part


@pytest.mark.parametrize("name", NAMES)
def test_every_template_renders_with_its_required_values_alone(name: str):
    for channel in spec(name).channels:
        assert all(part.strip() for part in render(name, channel, required_only(name)))


@pytest.mark.parametrize("name", SMS_NAMES)
def test_every_text_is_within_its_segment_limit_with_the_longest_values(name: str):
    limit = spec(name).sms_segments
    assert limit is not None
    for long in (False, True):
        assert 1 <= sms_segments(TEMPLATES.sms(name, sample(name, long=long))) <= limit


def test_the_segment_limits_the_brief_sets():
    assert spec("on_the_way").sms_segments == 1
    assert spec("appointment_reminder").sms_segments == 2
    assert spec("works_order_confirmation").sms_segments == 3
    assert spec(NEUTRAL).sms_segments == 1


def test_the_long_samples_are_the_longest_plausible():
    long = sample("works_order_confirmation", long=True)
    assert len(long["contractor_name"]) == 60
    assert len(long["job_description"]) == 200
    for name in NAMES:
        normal, longest = sample(name), sample(name, long=True)
        for key in normal.keys() & longest.keys():
            assert len(longest[key]) >= len(normal[key]), (name, key)


@pytest.mark.parametrize("name", EMAIL_NAMES)
def test_html_escapes_a_script_in_any_value_and_text_keeps_it(name: str):
    values = {key: f"{value} {HOSTILE}" for key, value in sample(name, long=True).items()}
    message = TEMPLATES.email(name, values)
    assert message.html is not None
    assert "<script>" not in message.html
    assert '<html lang="en-GB">' in message.html
    if name != NEUTRAL:
        assert "&lt;script&gt;" in message.html
        assert HOSTILE in message.text


@pytest.mark.parametrize("name", EMAIL_NAMES)
def test_html_is_simple_and_accessible(name: str):
    html = TEMPLATES.email(name, sample(name, long=True)).html or ""
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>" in html and "<main" in html
    assert "<img" not in html
    assert 'href="tel:' in html  # a number to tap and call
    if name != "acknowledgement":  # the first template, written before the layout
        assert "<h1" in html


def test_a_phone_value_becomes_a_tap_to_call_link():
    html = TEMPLATES.email("works_order_confirmation", sample("works_order_confirmation")).html or ""
    assert '<a href="tel:02079460123">020 7946 0123</a>' in html


def test_a_link_that_is_not_https_is_shown_but_not_linked():
    values = {**sample("missed_appointment"), "link": "javascript:alert(1)"}
    html = TEMPLATES.email("missed_appointment", values).html or ""
    assert 'href="javascript' not in html
    assert "javascript:alert(1)" in html


@pytest.mark.parametrize(("name", "key"), REQUIRED)
def test_missing_a_required_value_is_an_error(name: str, key: str):
    values = required_only(name)
    del values[key]
    for channel in spec(name).channels:
        with pytest.raises(UndefinedError):
            render(name, channel, values)


def test_a_name_is_used_only_when_given():
    values = sample("appointment_reminder")
    with_name = TEMPLATES.email("appointment_reminder", values)
    without = TEMPLATES.email("appointment_reminder", {k: v for k, v in values.items() if k != "name"})
    assert with_name.text.startswith(f"Dear {values['name']},")
    assert without.text.startswith("Hello,")
    assert values["name"] not in TEMPLATES.sms("appointment_reminder", values)


def test_the_safeguarding_message_has_no_placeholders_at_all():
    for file in sorted(FOLDER.glob(f"{NEUTRAL}.*.j2")):
        source = file.read_text()
        assert "{{" not in source and "{%" not in source and "{#" not in source, file.name
    assert spec(NEUTRAL).keys == frozenset()


def test_the_safeguarding_message_is_the_same_whatever_it_is_given():
    everything = {key: f"CASE-DETAIL-{key}" for name in NAMES for key in spec(name).keys}
    assert TEMPLATES.sms(NEUTRAL, everything) == TEMPLATES.sms(NEUTRAL, {})
    assert TEMPLATES.sms(NEUTRAL, {}) == "Hexagon Housing tried to contact you. Please call us on 0800 393 338."
    assert TEMPLATES.email(NEUTRAL, everything) == TEMPLATES.email(NEUTRAL, {})
    message = TEMPLATES.email(NEUTRAL, everything)
    assert "CASE-DETAIL" not in message.subject + message.text + (message.html or "")


def test_the_works_order_confirmation_gives_what_the_local_offer_promises():
    values = sample("works_order_confirmation")
    text = TEMPLATES.sms("works_order_confirmation", values)
    email = TEMPLATES.email("works_order_confirmation", values)
    for key in ("works_order", "contractor_name", "contractor_phone", "job_description"):
        assert values[key] in text
        assert values[key] in email.text


def test_a_missed_appointment_promises_the_ten_pound_credit_and_apologises():
    email = TEMPLATES.email("missed_appointment", sample("missed_appointment"))
    text = TEMPLATES.sms("missed_appointment", sample("missed_appointment"))
    for part in (email.text, text):
        assert "£10" in part and "rent account" in part and "sorry" in part
        assert "0800 393 338" in part


def test_the_survey_asks_about_the_eight_aspects_in_order():
    assert list(SURVEY_ORDER) == list(Aspect)
    text = TEMPLATES.sms("satisfaction_survey", sample("satisfaction_survey"))
    email = TEMPLATES.email("satisfaction_survey", sample("satisfaction_survey")).text
    words = ["first contact", "appointment details", "reminders", "speed of repair", "operative",
             "quality", "keeping you informed", "overall"]
    positions = [text.index(word) for word in words]
    assert positions == sorted(positions)
    assert all(f"{n}. " in email for n in range(1, 9))


def test_a_home_visit_says_staff_carry_proof_of_identity():
    email = TEMPLATES.email("home_visit_confirmation", sample("home_visit_confirmation"))
    assert "proof of identity" in email.text


def test_an_unknown_template_is_named_as_such():
    with pytest.raises(UnknownTemplate):
        sample("no_such_template")


def test_the_check_finds_no_problem():
    assert [(r.name, r.problems) for r in check_all(TEMPLATES) if not r.ok] == []


def test_the_check_reports_a_text_over_its_limit(tmp_path: Path):
    for file in FOLDER.glob("*.j2"):
        (tmp_path / file.name).write_text(file.read_text())
    (tmp_path / "on_the_way.sms.j2").write_text("{{ contractor_name }} {{ reference }} " + "x" * 200 + "\n")
    results = {r.name: r for r in check_all(Templates(tmp_path))}
    assert not results["on_the_way"].ok
    assert "over its limit of 1" in results["on_the_way"].problems[0]
    assert results["appointment_reminder"].ok


def doorstep(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


def test_doorstep_templates_check_passes():
    result = doorstep("templates", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len([line for line in result.stdout.splitlines() if line.startswith("ok ")]) == len(CATALOGUE)


def test_doorstep_templates_preview_shows_the_text_and_its_segments():
    result = doorstep("templates", "preview", "on_the_way", "--channel", "sms")
    assert result.returncode == 0, result.stderr
    assert TEMPLATES.sms("on_the_way", sample("on_the_way")) in result.stdout
    assert "1 segment" in result.stdout
    assert "1 segments" not in result.stdout


def test_doorstep_templates_preview_refuses_an_unknown_name():
    result = doorstep("templates", "preview", "no_such_template")
    assert result.returncode == 2
    assert "no template" in result.stderr
