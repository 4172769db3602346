"""The fast feed reader against feedparser: where it answers, it answers what feedparser would.

Every test here compares ``parse_feed`` as shipped with ``parse_feed`` forced onto feedparser;
the fast path may decline any feed, never read one differently.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing.ingest import feedparse
from tests.conftest import NOW_DT

FIXTURES = Path(__file__).parent / "fixtures" / "site"
CORPUS_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
URL = "http://feeds.example/news/feed.xml"
RSS_TYPE = {"content-type": "application/rss+xml; charset=utf-8"}


def by_feedparser(body: bytes, headers: dict[str, str], url: str = URL) -> object:
    with mock.patch.object(feedparse, "fast_entries", return_value=None):
        return feedparse.parse_feed("F", body, headers, url, NOW_DT)


def assert_same(body: bytes, headers: dict[str, str], url: str = URL) -> bool:
    """Both readings agree; True when the fast path answered."""
    assert feedparse.parse_feed("F", body, headers, url, NOW_DT) == by_feedparser(
        body, headers, url
    )
    return feedparse.fast_entries(body, headers, url) is not None


# -- generated feeds -------------------------------------------------------------------------

# Text that has tripped feed readers: markup and entities, non-ASCII, cp1252 controls, UTF-8
# mis-read as Latin-1, whitespace at the ends.
TEXT = st.lists(
    st.sampled_from(
        [*list("ab Z09&<>'\";/?=#.-"), "é", "ü", "中", "\x85", "\x93", "Ã©", "&amp;", "\t", "\n"]
    ),
    max_size=20,
).map("".join)
LINKS = st.one_of(
    st.sampled_from(
        [
            "https://news.example/a/1.html",
            "/p/2?a=1&b=2",
            "p/3.html#top",
            "?page=4",
            "",
            "  https://news.example/padded  ",
            "http:///news.example/x",
            "tag:news.example,2026:5",
            "https://news.example/q?x=1&amp;y=2",
            "https://news.example/e&copy;",
        ]
    ),
    TEXT,
)
RFC822 = st.sampled_from(
    [
        "Tue, 10 Mar 2026 05:30:00 +0000",
        "Tue, 10 Mar 2026 05:30:00 +0000",
        "Mon, 09 Mar 2026 18:00:00 GMT",
        "10 Mar 2026 05:30 GMT",
        "Mon, 9 Mar 2026 23:59:59 -0930",
        "Tue, 10 Mar 2026 05:30:00 EST",
        "Tue, 10 Mar 2099 05:30:00 +0000",
        "Mon, 31 Feb 2026 10:00:00 GMT",
        "2026-03-10T05:30:00Z",
        "yesterday",
        "",
    ]
)
W3DTF = st.sampled_from(
    [
        "2026-03-10T05:30:00Z",
        "2026-03-10T05:30:00.123+02:00",
        "2026-03-10T05:30Z",
        "2026-02-30T05:30:00Z",
        "2099-01-01T00:00:00Z",
        "Tue, 10 Mar 2026 05:30:00 +0000",
        "2026-03-10",
    ]
)


def element(tag: str, text: str, attributes: str = "") -> str:
    return f"<{tag}{attributes}>{escape(text)}</{tag}>"


@st.composite
def rss_item(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(element("title", draw(TEXT)))
    if draw(st.booleans()):
        parts.append(element("link", draw(LINKS)))
    if draw(st.booleans()):
        permalink = draw(st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"']))
        permalink = draw(
            st.sampled_from([permalink, ' isPermaLink="True"', ' ISPERMALINK="false"'])
        )
        parts.append(element("guid", draw(LINKS), permalink))
    if draw(st.booleans()):
        parts.append(element("pubDate", draw(RFC822)))
    if draw(st.booleans()):
        text = draw(TEXT)
        cdata = draw(st.booleans()) and "]]>" not in text
        parts.append(
            f"<description><![CDATA[{text}]]></description>"
            if cdata
            else element("description", text)
        )
    if draw(st.booleans()):
        parts.append(element("content:encoded", draw(TEXT)))
    author = draw(st.sampled_from(["", "author", "dc:creator", "both"]))
    if author in ("author", "both"):
        parts.append(element("author", draw(st.sampled_from(["a@b.example (A B)", "Ann", ""]))))
    if author in ("dc:creator", "both"):
        parts.append(element("dc:creator", draw(TEXT)))
    if draw(st.booleans()):
        url = draw(st.sampled_from(["", " url=" + quoteattr("https://wire.example/x")]))
        parts.append(element("source", draw(TEXT), url))
    # Mostly nothing: one declining element declines the whole feed.
    extra = draw(
        st.sampled_from(
            [""] * 12
            + [
                "<category>x</category><category>y</category>",
                '<enclosure url="https://news.example/a.mp3" length="1" type="audio/mpeg"/>',
                '<media:thumbnail url="https://news.example/t.jpg"/>',
                "<media:content url='https://news.example/v.mp4'><media:title>M</media:title></media:content>",
                "<comments>https://news.example/c</comments>",
                "<dc:date>2026-03-10T05:30:00Z</dc:date>",
                "<atom:link href='https://news.example/alt'/>",
                "<title>second title</title>",
                "<description>x<b>inline</b></description>",
                '<title type="html">typed</title>',
            ]
        )
    )
    parts.append(extra)
    order = draw(st.permutations(parts))
    return "<item>" + "".join(order) + "</item>"


@st.composite
def rss_feed(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(rss_item(), max_size=4))
    declaration = draw(
        st.sampled_from(
            [
                '<?xml version="1.0" encoding="utf-8"?>',
                "<?xml version='1.0' encoding='UTF-8'?>",
                "",
                '<?xml version="1.0" encoding="iso-8859-1"?>',
            ]
        )
    )
    version = draw(st.sampled_from(["2.0", "2.0", "0.91", ""]))
    body = (
        f'{declaration}<rss version="{version}" xmlns:content="http://purl.org/rss/1.0/modules/'
        'content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/'
        '2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
        f"<link>https://news.example/</link>{''.join(items)}</channel></rss>"
    )
    encoding = "iso-8859-1" if "iso-8859-1" in declaration else "utf-8"
    return body.encode(encoding, errors="xmlcharrefreplace")


HEADERS = st.sampled_from(
    [
        RSS_TYPE,
        RSS_TYPE,
        RSS_TYPE,
        {"content-type": "text/xml"},
        {"content-type": "application/xml; charset=ISO-8859-1"},
        {"content-type": "text/html; charset=utf-8"},
        {},
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=rss_feed(), headers=HEADERS)
def test_generated_rss_reads_as_feedparser_reads_it(body: bytes, headers: dict[str, str]) -> None:
    assert_same(body, headers)


@st.composite
def atom_entry(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(element("id", draw(LINKS)))
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["", ' type="text"', ' type="html"', ' type="HTML"']))
        parts.append(element("title", draw(TEXT), kind))
    for _ in range(draw(st.integers(0, 2))):
        rel = draw(st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="ALTERNATE"']))
        kind = draw(st.sampled_from(["", ' type="text/html"', ' type="application/pdf"']))
        parts.append(f"<link{rel}{kind} href={quoteattr(draw(LINKS))}/>")
    for tag in ("published", "updated"):
        if draw(st.booleans()):
            parts.append(element(tag, draw(W3DTF)))
    for tag in ("summary", "content"):
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["", ' type="text"', ' type="html"', ' type="text/html"']))
            parts.append(element(tag, draw(TEXT), kind))
    if draw(st.booleans()):
        name = draw(st.sampled_from(["", element("name", "Ann")]))
        mail = draw(st.sampled_from(["", element("email", "ann@x.example")]))
        uri = draw(st.sampled_from(["", element("uri", "https://x.example/ann")]))
        parts.append(f"<author>{name}{mail}{uri}</author>")
    parts.append(
        draw(
            st.sampled_from(
                [""] * 8
                + [
                    '<category term="x"/>',
                    '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></content>',
                    "<source><title>Wire</title></source>",
                    "<link>https://news.example/text-link</link>",
                ]
            )
        )
    )
    return "<entry>" + "".join(draw(st.permutations(parts))) + "</entry>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(atom_entry(), max_size=4))
def test_generated_atom_reads_as_feedparser_reads_it(entries: list[str]) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>T</title><id>urn:feed</id>{''.join(entries)}</feed>"
    ).encode()
    assert_same(body, {"content-type": "application/atom+xml"})


# -- fixture and real feeds ------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*/*.xml")), ids=lambda p: p.parent.name)
def test_fixture_feeds_take_the_fast_path_and_agree(path: Path) -> None:
    body = path.read_bytes().replace(b"{{BASE}}", b"http://127.0.0.1:8080")
    # Taken, not declined: a fast path that declined every feed would pass every other test.
    assert assert_same(body, RSS_TYPE, "http://127.0.0.1:8080/a/feed.xml")


def test_real_feeds_agree() -> None:
    """Every real feed of the shared corpus, when it sits beside the checkout (as in CI)."""
    feeds = sorted(CORPUS_FEEDS.glob("*.xml"))
    if not feeds:
        pytest.skip("../shared/corpus is not beside this checkout")
    taken = sum(assert_same(path.read_bytes(), RSS_TYPE) for path in feeds)
    assert taken == len(feeds)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "x">]><rss version="2.0"><channel>'
        b"<item><title>&e;</title></item></channel></rss>",
        b'<rss version="2.0" xml:base="http://other.example/"><channel><item><link>a</link>'
        b"</item></channel></rss>",
        b'<rss version="2.0"><channel><item><title>unclosed</channel></rss>',
        b'<rss version="2.0"><channel><item><foo:bar xmlns:foo="urn:x">1</foo:bar></item>'
        b"</channel></rss>",
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
    ],
    ids=["doctype", "xml-base", "broken", "unknown-element", "rdf"],
)
def test_what_the_fast_path_declines_feedparser_reads(body: bytes) -> None:
    assert feedparse.fast_entries(body, RSS_TYPE, URL) is None
    assert_same(body, RSS_TYPE)


def test_fast_path_reads_no_entities_and_no_network() -> None:
    """A DOCTYPE is declined before lxml sees it, so no entity expands and no DTD loads."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c SYSTEM "http://127.0.0.1:9/x">]>'
        b'<rss version="2.0"><channel><item><title>&b;&c;</title></item></channel></rss>'
    )
    assert feedparse.fast_entries(bomb, RSS_TYPE, URL) is None
