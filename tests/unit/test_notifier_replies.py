"""What a tenant's text back means (pure): carrier keywords, survey digits, a choice
among offered appointments, and a request in their own words to stop texts."""

import pytest

from services.notifier.domain.replies import Reply, chosen_offer, reply_of


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "Please STOP texting me!!",
        "Don’t text me",
        "dont text me again",
        "do not text this number",
        "No more texts please",
        "stop sending me messages",
        "Can you unsubscribe me",
        "take me off your list",
        "never contact me again",
    ],
)
def test_a_request_in_the_tenants_own_words_to_stop_texts_is_recognised(body: str):
    assert reply_of(body) is Reply.OPT_OUT_REQUEST


@pytest.mark.parametrize(
    "body",
    ["I will stop by the office later", "thanks, see you tomorrow", "The text said Tuesday", "what time?"],
)
def test_ordinary_messages_are_not_taken_for_opt_outs(body: str):
    assert reply_of(body) is Reply.OTHER


@pytest.mark.parametrize(("body", "reply"), [("STOP", Reply.STOP), ("start", Reply.START), ("Help", Reply.HELP)])
def test_the_carrier_keywords_stay_keywords(body: str, reply: Reply):
    assert reply_of(body) is reply


@pytest.mark.parametrize(("body", "offer"), [("1", 1), (" 2 ", 2), ("3.", 3), ("Option 2", 2), ("option3", 3)])
def test_one_two_or_three_choose_an_offer(body: str, offer: int):
    assert chosen_offer(body) == offer


@pytest.mark.parametrize("body", ["4", "0", "12", "2 please and thanks", "", "two"])
def test_anything_else_chooses_no_offer(body: str):
    assert chosen_offer(body) is None
