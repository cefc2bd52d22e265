"""A plain MAIL or RCPT address is read without the standard library's address parser,
and must come out exactly as that parser gives it."""

import itertools
from email._header_value_parser import get_angle_addr
from email.errors import HeaderParseError

import pytest

from services.intake.adapters.smtp import plain_address

LOCAL_PARTS = ("a", "tenant.42", "o'brien", "a+b", "x_y-z", "A.B.C", "!#$%&*/=?^`{|}~", "a..b", ".a", "a.",
               '"quoted"', '"a b"', "tênant", "", "=?utf-8?q?postmaster?=", "=?utf-8?b?YUBiLmNvbQ==?=", "a=?b",
               "=a", "a.=?x?q?y?=")
DOMAINS = ("hexagon.org.uk", "B.COM", "x-y.example", "1.2.3.4", "[192.0.2.1]", "-a.com", "a-.com", "a..com",
           "a.com.", "a_b.com", "dömain.example", "localhost", "")
AROUND = (("<", ">"), ("<", "> SIZE=1200"), ("<", ">  BODY=8BITMIME SMTPUTF8"), ("<", ">\tSIZE=1"),
          ("<", ">SIZE=1"), ("<", "> (a comment) SIZE=1"), ("<", ">(comment)"), ("<", ">   "),
          (" <", ">"), ("< ", " >"), ("<", ""), ("", ""), ("<@relay.example:", ">"), ("<", ">\r\n"),
          ("<", ">\xa0SIZE=1"), ("<", ">\u2028"), ("<", "> \xa0(c)"), ("<", ">>"), ("<", "> >"))


def _parsed(arg: str) -> tuple[str, str] | None:
    try:
        address, rest = get_angle_addr(arg)
    except HeaderParseError:
        return None
    return address.addr_spec, rest


ARGUMENTS = [f"{before}{local}@{domain}{after}" for local, domain, (before, after)
             in itertools.product(LOCAL_PARTS, DOMAINS, AROUND)]


def test_a_plain_address_is_read_as_the_parser_reads_it() -> None:
    read = [(arg, plain_address(arg)) for arg in ARGUMENTS]
    taken = [(arg, plain) for arg, plain in read if plain is not None]
    # The quick way is taken for 10 of the local parts, 5 of the host names and 11 of the
    # shapes around them: a change in what it takes shows here.
    assert len(taken) == 10 * 5 * 11
    for arg, plain in taken:
        assert plain == _parsed(arg), arg


@pytest.mark.parametrize("arg", [
    "<tenant.42@hexagon.org.uk>", "<a@B.COM> SIZE=1200", "<o'brien@x-y.example>\tBODY=8BITMIME",
])
def test_the_usual_addresses_go_the_quick_way(arg: str) -> None:
    assert plain_address(arg) == _parsed(arg)


@pytest.mark.parametrize("arg", [
    '<"a b"@hexagon.org.uk>', "<a@[192.0.2.1]>", "<=?utf-8?q?postmaster?=@hexagon.org.uk>", "<tênant@hexagon.org.uk>", "<a@b.com> (comment)",
    "<a..b@hexagon.org.uk>", " <a@b.com>", "a@b.com", "<@relay.example:a@b.com>", "<a@b.com",
])
def test_anything_else_is_left_to_the_parser(arg: str) -> None:
    assert plain_address(arg) is None
