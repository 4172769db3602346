from __future__ import annotations

from datetime import UTC, datetime

from briefing.ingest.extract import MIN_ARTICLE_CHARS, choose, extract_html, feed_text
from briefing.models import Entry
from briefing.store import PageResult

T = datetime(2026, 3, 10, tzinfo=UTC)
BODY = " ".join(f"Sentence number {i} of the article body about an intrusion." for i in range(30))


def entry(summary: str = "", content: str = "") -> Entry:
    return Entry("id", "F", "https://n.example/a", "Title", summary, content, "", T, T, 1)


def page(text: str, ok: bool = True) -> PageResult:
    return PageResult(
        "https://n.example/a", ok, None if ok else "HTTP 404", text, "", "", None, None
    )


def test_full_page_wins_over_teaser() -> None:
    article = choose(entry(summary="A short teaser."), page(BODY))
    assert (article.quality, article.text) == ("full", BODY)


def test_failed_page_falls_back_to_feed_content() -> None:
    article = choose(entry(summary="teaser", content=f"<p>{BODY}</p>"), page("", ok=False))
    assert article.quality == "feed-only"
    assert article.text == BODY


def test_teaser_page_loses_to_longer_feed_content() -> None:
    short = "Subscribe to read the full story."
    assert len(short) < MIN_ARTICLE_CHARS
    article = choose(entry(content=f"<p>{BODY}</p>"), page(short))
    assert (article.quality, article.text) == ("feed-only", BODY)


def test_nothing_at_all_is_failed() -> None:
    assert choose(entry(), page("", ok=False)).quality == "failed"


def test_feed_text_drops_scripts_and_keeps_paragraphs() -> None:
    html = "<p>First <b>para</b>.</p><script>alert(1)</script><ul><li>item</li></ul>"
    assert feed_text(entry(content=html)) == "First para.\nitem"


def test_feed_text_keeps_text_outside_blocks_and_breaks_lines_at_br() -> None:
    """A vulnerability feed's description: loose prose, <br>-separated fields, a link list."""
    html = (
        "A path traversal flaw in the Kestrel file server lets a remote user read any file."
        "<br><br>Vendor: kestrel<br>Product: fileserver<br><br>Citations:<br>"
        "<ul><li><a href='https://a.example/1'>https://a.example/1</a></li></ul>"
    )
    assert feed_text(entry(summary=html)).split("\n") == [
        "A path traversal flaw in the Kestrel file server lets a remote user read any file.",
        "Vendor: kestrel",
        "Product: fileserver",
        "Citations:",
        "https://a.example/1",
    ]


def test_extract_html_drops_boilerplate_and_comments() -> None:
    paragraphs = "".join(f"<p>{BODY} Paragraph {i}.</p>" for i in range(3))
    html = (
        "<html><head><title>T</title></head><body><nav><a href='/'>Home</a> <a>Login</a></nav>"
        f"<article><h1>Headline</h1>{paragraphs}</article>"
        "<div id='comments' class='comments'><p>First comment: great post, follow me!</p></div>"
        "<footer>Copyright 2026 Example Media. All rights reserved.</footer></body></html>"
    )
    result = extract_html(html, "https://n.example/a")
    assert "Paragraph 2." in result["text"]
    assert "great post" not in result["text"]
    assert "All rights reserved" not in result["text"]


def test_page_metadata_from_meta_tags_json_ld_and_lang() -> None:
    from briefing.ingest.extract import page_metadata

    html = (
        "<html lang='de'><head><title>Site | Fallback title</title>"
        '<meta property="og:title" content="The &amp; real title">'
        "<meta content='2026-03-09T10:00:00Z' property='article:published_time'>"
        '<script type="application/ld+json">{"author": {"@type": "Person", "name": "A. Writer"}}'
        "</script></head><body></body></html>"
    )
    assert page_metadata(html) == {
        "title": "The & real title",
        "author": "A. Writer",
        "date": "2026-03-09T10:00:00Z",
        "language": "de",
    }
    assert page_metadata("<p>no head at all</p>") == {
        "title": "",
        "author": "",
        "date": None,
        "language": None,
    }
