"""The boundary line matcher given to email.feedparser matches exactly the lines, and
gives exactly the groups, of the regular expression the parser would have compiled."""

import email
import email.feedparser
import itertools
import re
from email import policy

import pytest

from services.intake.domain.mime_boundaries import BOUNDARY_PREFIX, BOUNDARY_SUFFIX, BoundaryLine

SEPARATORS = ["--===============4242==", "--simple", "--a.b+c(d)*e?f[g]{h}|i^j$k\\l", "--ünïcode", "--sp ace\t"]
PIECES = ["", "--", "-", " ", "\t", " \t ", "x", "\r\n", "\r", "\n", "\n\n", "\r\n\n", "\r\r", "--\r\n", " \n"]


def regex_for(separator: str) -> re.Pattern[str]:
    return re.compile(BOUNDARY_PREFIX + re.escape(separator) + BOUNDARY_SUFFIX)


def lines_for(separator: str) -> list[str]:
    tails = ["".join(parts) for parts in itertools.product(PIECES, repeat=3)]
    return [separator + tail for tail in tails] + [separator[:-1], "x" + separator, "", separator.upper()]


@pytest.mark.parametrize("separator", SEPARATORS)
def test_every_line_matches_as_the_regex_does(separator: str) -> None:
    regex, matcher = regex_for(separator), BoundaryLine(separator)
    for line in lines_for(separator):
        expected, found = regex.match(line), matcher.match(line)
        assert (found is None) == (expected is None), repr(line)
        if expected is not None:
            for name in ("sep", "end", "ws", "linesep"):
                assert found.group(name) == expected.group(name), (repr(line), name)


def test_the_parser_gets_the_matcher_for_its_boundaries() -> None:
    made = email.feedparser.re.compile(BOUNDARY_PREFIX + re.escape("--b.1") + BOUNDARY_SUFFIX)
    assert isinstance(made, BoundaryLine) and made.separator == "--b.1"
    assert email.feedparser.re.compile(r"\r\n").match("\r\n")  # anything else is re's own


MULTIPART = (
    b"From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b.1+x"\r\n\r\npreamble\r\n'
    b"--b.1+x\r\nContent-Type: text/plain\r\n\r\nplain words\r\n"
    b"--b.1+x  \r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
    b"--b.1+x--\r\nepilogue\r\n"
)


def parts_of(raw: bytes) -> tuple[list[object], str | None, str | None, int]:
    parsed = email.message_from_bytes(raw, policy=policy.compat32)
    return [part.get_payload() for part in parsed.get_payload()], parsed.preamble, parsed.epilogue, len(parsed.defects)


def test_a_multipart_mail_parses_as_with_the_regex(monkeypatch: pytest.MonkeyPatch) -> None:
    with_matcher = parts_of(MULTIPART)
    assert with_matcher == (["plain words", "<p>html</p>"], "preamble", "epilogue\r\n", 0)
    monkeypatch.setattr(email.feedparser, "re", re)  # the parser as the standard library has it
    assert parts_of(MULTIPART) == with_matcher
