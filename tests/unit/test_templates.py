"""Email templates: plain text as written, HTML autoescaped, HTML only where a template has one."""

from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from services.notifier.adapters.jinja_templates import Templates

HOSTILE = "<script>alert('x')</script> & \"quotes\""


def test_the_html_part_escapes_personalisation_and_the_text_part_does_not():
    message = Templates().email("acknowledgement", {"reference": "HX-7", "promise": HOSTILE})

    assert HOSTILE in message.text
    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quotes&#34;" in message.html
    assert "HX-7" in message.html
    assert message.subject == "We have received your message (HX-7)"


def test_the_html_templates_own_markup_is_kept():
    html = Templates().email("acknowledgement", {"reference": "HX-7"}).html

    assert html is not None
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en-GB">' in html
    assert "<strong>HX-7</strong>" in html


def test_a_template_without_an_html_file_gives_no_html(tmp_path: Path):
    (tmp_path / "plain.subject.j2").write_text("About {{ thing }}\n")
    (tmp_path / "plain.txt.j2").write_text("Hello <{{ thing }}>\n")

    message = Templates(tmp_path).email("plain", {"thing": "<b>"})

    assert message.html is None
    assert message.text == "Hello <<b>>\n"
    assert message.subject == "About <b>"


def test_an_html_template_that_includes_a_missing_file_is_an_error(tmp_path: Path):
    (tmp_path / "broken.subject.j2").write_text("Subject\n")
    (tmp_path / "broken.txt.j2").write_text("Text\n")
    (tmp_path / "broken.html.j2").write_text("{% include 'nowhere.html.j2' %}\n")

    with pytest.raises(TemplateNotFound):
        Templates(tmp_path).email("broken", {})


def test_texts_use_plain_punctuation_so_they_stay_gsm7():
    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.domain.phones import is_gsm7

    text = Templates().sms("acknowledgement", {"reference": "HX-ABC’D–1"})
    assert "HX-ABC'D-1" in text
    assert is_gsm7(text)


@pytest.mark.parametrize("reminder, promised", [("yes", True), ("no", False)])
def test_a_confirmation_promises_a_reminder_only_when_one_will_follow(reminder: str, promised: bool):
    values = {"reference": "HX-7", "appointment_date": "Tuesday 4 May", "appointment_time": "8am to 12pm",
              "contractor_name": "Acme", "reminder": reminder}
    text = Templates().sms("appointment_confirmation", values)
    email = Templates().email("appointment_confirmation", values)
    assert ("remind you" in text) is promised
    assert ("remind you" in email.text) is promised and ("remind you" in (email.html or "")) is promised
    assert "on their way" in email.text
