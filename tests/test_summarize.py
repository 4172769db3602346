from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from briefing.summarize import ExtractiveSummarizer, is_prose, split_sentences

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
