from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from briefing.localsite import LocalSite, RecordedRequest, Response
from briefing.stories.summarize import (
    _BOILERPLATE,
    ChatSummarizer,
    ExtractiveSummarizer,
    is_boilerplate,
    is_prose,
    split_sentences,
)

ARTICLE = """Register now to get the most from our site. Select the topics which interest you.
By Jane Reporter
A cyber espionage group linked to Iran has targeted telecommunications and travel companies across the Middle East, according to a report published on Tuesday.
The group, tracked as APT39, collected personal information about travellers and subscribers, the researchers said.
Read more: our coverage of Iranian threat actors
The U.S. government said in a separate assessment that Iran continues to invest in cyber operations against its neighbours.
Share this article on social media.
The report recommends that operators review remote access to billing systems and rotate administrator credentials."""


def test_split_keeps_abbreviations_whole() -> None:
    text = "The U.S. agency said so. Dr. Smith agreed with the U.K. team. A third sentence."
    assert split_sentences(text) == [
        "The U.S. agency said so.",
        "Dr. Smith agreed with the U.K. team.",
        "A third sentence.",
    ]


def test_paragraphs_never_run_together() -> None:
    assert split_sentences("Heading without stop\nA sentence that ends.") == [
        "Heading without stop",
        "A sentence that ends.",
    ]


def test_boilerplate_and_fragments_are_not_prose() -> None:
    assert not is_prose("Register now to get the most from our site and select topics.")
    assert not is_prose("Share this article on social media with all of your friends today.")
    assert not is_prose("Read more: our coverage of Iranian threat actors and their many tools.")
    assert not is_prose("a sentence that starts in the middle of something and goes on.")
    assert not is_prose('He said "the attack was broad and would continue for months.')
    assert is_prose("The group collected personal information about travellers, researchers said.")


def test_summary_is_whole_sentences_without_boilerplate() -> None:
    sentences = ExtractiveSummarizer().summarize(
        [ARTICLE], "Iran-linked group targets telecoms", ["APT39", "Iran"]
    )
    assert 1 <= len(sentences) <= 3
    for sentence in sentences:
        assert sentence.text in ARTICLE
        assert is_prose(sentence.text)
        assert sentence.source == 0
    joined = " ".join(s.text for s in sentences)
    assert "Register" not in joined and "Share this" not in joined and "Jane Reporter" not in joined
    assert "A cyber espionage group linked to Iran" in joined


def test_sentences_are_traced_to_their_source_and_not_repeated() -> None:
    second = (
        "Telecom operators in the Gulf were told to audit remote access after the APT39 findings. "
        "A cyber espionage group linked to Iran has targeted telecommunications and travel companies "
        "across the Middle East, according to a report published on Tuesday."
    )
    sentences = ExtractiveSummarizer().summarize([ARTICLE, second], "t", ["APT39"])
    texts = [s.text for s in sentences]
    assert len(texts) == len(set(texts))
    assert {s.source for s in sentences} <= {0, 1}


def test_deterministic() -> None:
    first = ExtractiveSummarizer().summarize([ARTICLE], "t", ["Iran"])
    assert all(
        ExtractiveSummarizer().summarize([ARTICLE], "t", ["Iran"]) == first for _ in range(3)
    )


@given(st.text(max_size=400))
def test_split_never_loses_words(text: str) -> None:
    assume("..." not in text and "…" not in text)  # a teaser's closing ellipsis is dropped
    assume(not re.search(r"[a-z]{2}[.!?][A-Z][a-z]", text))  # glued sentences get a space
    assert " ".join(split_sentences(text)).split() == text.split()


def test_glued_paragraphs_and_teaser_ends_are_cleaned() -> None:
    text = (
        "The update fixes eleven critical flaws for Windows users.The zero-day is exploited. [...]"
    )
    assert split_sentences(text) == [
        "The update fixes eleven critical flaws for Windows users.",
        "The zero-day is exploited.",
    ]


# --- the optional chat backend, against a loopback stub of an OpenAI-compatible server ------


def _answer(content: str) -> Response:
    body = {"choices": [{"message": {"role": "assistant", "content": content}}]}
    return Response(body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


@pytest.fixture
def llm() -> Iterator[LocalSite]:
    with LocalSite() as site:
        yield site


GOOD = (
    '```json\n{"sentences": [{"text": "An Iran-linked group raided telecom and travel firms '
    'across the Middle East for personal data.", "source": 1}]}\n```'
)


def test_chat_answer_is_used_with_its_sources(llm: LocalSite) -> None:
    llm.route("/v1/chat/completions", lambda _r: _answer(GOOD))
    chat = ChatSummarizer(llm.base_url + "/v1", "local-model", api_key="k3y", timeout=5)
    sentences = chat.summarize([ARTICLE, ARTICLE], "Iran-linked group targets telecoms")
    chat.close()
    assert [(s.text[:20], s.source) for s in sentences] == [("An Iran-linked group", 1)]
    request = llm.requests_for("/v1/chat/completions")[0]
    assert request.headers["authorization"] == "Bearer k3y"
    assert request.method == "POST"


@pytest.mark.parametrize(
    "content",
    [
        "Sure! Here is a summary: the group hacked telecoms.",  # not JSON
        '{"sentences": [{"text": "A long enough sentence about the telecom raid.", "source": 7}]}',
        '{"sentences": [{"text": "<script>alert(1)</script> and more words here.", "source": 0}]}',
        '{"sentences": []}',
        '{"sentences": [{"text": "Too short.", "source": 0}]}',
    ],
)
def test_a_bad_answer_falls_back_to_the_extractive_summary(llm: LocalSite, content: str) -> None:
    llm.route("/v1/chat/completions", lambda _r: _answer(content))
    chat = ChatSummarizer(llm.base_url + "/v1", "m", timeout=5)
    got = chat.summarize([ARTICLE], "t", ["Iran"])
    chat.close()
    assert got == ExtractiveSummarizer().summarize([ARTICLE], "t", ["Iran"])
    assert chat.failures == 1


def test_a_failing_server_falls_back(llm: LocalSite) -> None:
    def broken(_request: RecordedRequest) -> Response:
        return Response(status=503)

    llm.route("/v1/chat/completions", broken)
    chat = ChatSummarizer(llm.base_url + "/v1", "m", timeout=5)
    assert chat.summarize([ARTICLE], "t") == ExtractiveSummarizer().summarize([ARTICLE], "t")
    chat.close()


def test_compose_asks_the_chat_backend_for_the_top_stories_only(llm: LocalSite) -> None:
    from datetime import timedelta

    from briefing.config import Config
    from tests.conftest import NOW_DT, compose_pairs
    from tests.test_compose import APT39_A, PATCH, VPN, pair

    answer = (
        '{"sentences": [{"text": "A model wrote this sentence about the most important '
        'story of the day.", "source": 0}]}'
    )
    llm.route("/v1/chat/completions", lambda _r: _answer(answer))
    config = Config.model_validate(
        {
            "feeds": [
                {"name": n, "url": f"https://{n.lower()}.example/f"} for n in ("Wire", "Desk")
            ],
            "summarizer": {
                "backend": "chat",
                "url": llm.base_url + "/v1",
                "model": "m",
                "max_stories": 1,
            },
        }
    )
    pairs = [
        pair("Wire", 1, "Iranian espionage group raids Gulf telecoms", APT39_A, 3),
        pair("Desk", 3, "VPN flaw exploited in attacks", VPN, 2),
        pair("Wire", 4, "Monthly patches fix sixty flaws", PATCH, 1),
    ]
    briefing = compose_pairs(config, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    assert briefing.stories[0].summary.startswith("A model wrote this sentence")
    assert not any(s.summary.startswith("A model") for s in briefing.stories[1:])
    assert len(llm.requests_for("/v1/chat/completions")) == 1


def test_fallback_is_whole_sentences_or_nothing() -> None:
    from briefing.stories.summarize import fallback_summary

    # "Patch now." says too little to stand alone; the whole sentence after it does.
    assert fallback_summary("Patch now. The flaw is exploited. [...]") == "The flaw is exploited."
    teaser = "Microsoft fixed 60 flaws today. One of them is under attack, the company said. [...]"
    assert fallback_summary(teaser) == (
        "Microsoft fixed 60 flaws today. One of them is under attack, the company said."
    )
    assert fallback_summary("https://nvd.example/CVE-2026-1 https://vendor.example/advisory") == ""
    long = "A sentence that goes on and on about the breach " * 12 + "without ever ending"
    assert fallback_summary(long) == ""  # never a sentence cut in half


def test_the_headline_is_the_most_representative_title_not_the_first_arrival() -> None:
    from briefing.models import Article, Entities, Entry
    from briefing.stories.summarize import ExtractiveSummarizer, make_story

    when = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    titles = [
        "Windows 11 KB5099001 cumulative update released",  # first seen
        "Microsoft Patch Tuesday fixes 98 flaws, one zero-day exploited",
        "Patch Tuesday: Microsoft fixes exploited zero-day among 98 flaws",
        "Microsoft fixes 98 flaws on Patch Tuesday",
    ]
    members = []
    for k, title in enumerate(titles):
        seen = when.replace(minute=k)
        entry = Entry(
            f"e{k}", f"Feed{k}", f"https://o{k}.example/a", title, "", "", "", seen, seen, 1
        )
        article = Article(f"e{k}", entry.link, title, "Text.", "", seen, None, "feed-only")
        members.append((entry, article, Entities()))
    story = make_story(members, ExtractiveSummarizer())
    assert story.title == "Microsoft Patch Tuesday fixes 98 flaws, one zero-day exploited"


# One instance of every alternative of the boilerplate pattern, in mixed case.
_FURNITURE = (
    "Read More",
    "REGISTER NOW",
    "Sign up",
    "Subscribe",
    "newsletter",
    "Cookie",
    "Share this",
    "share on",
    "Click here",
    "All rights reserved",
    "Follow us",
    "This post is also available",
    "Advertisement",
    "Sponsored",
    "Related articles",
    "Related:",
    "Posted by",
    "posted in",
    "by Jane Doe",
    "By Staff",
    "Photo:",
    "Images:",
    "Credit:",
    "©",
    "Copyright",
    "Terms of Use",
    "terms of service",
    "Privacy Policy",
    "Log in to",
    "login to",
    "Leave a reply",
    "Tags:",
    "Filed under",
    "Updated:",
    "Published:",
    "You may also like",
    "Don't miss",
    "Download our whitepaper",
    "download the report",
    "Webinar",
    "Register for",
    "Join us",
)


@given(
    st.lists(st.one_of(st.sampled_from(_FURNITURE), st.text(max_size=30)), max_size=4).map(" ".join)
)
def test_boilerplate_shortcut_agrees_with_the_pattern(sentence: str) -> None:
    assert is_boilerplate(sentence) == (_BOILERPLATE.search(sentence) is not None)


def test_every_kind_of_furniture_is_boilerplate() -> None:
    for phrase in _FURNITURE:
        assert is_boilerplate(phrase), phrase
        assert is_boilerplate(f"{phrase} something"), phrase
