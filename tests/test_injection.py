"""Injection: nothing a feed says becomes markup, script or a fetch in any output.

A hostile feed (script, event handlers, iframes, stylesheets and ``javascript:`` / ``data:`` /
``file:`` links in titles, summaries, authors and links) goes through the real pipeline; every
HTML file written is parsed and searched for anything that came from the feed as markup. The PDF
renderer is given hostile content that points at a loopback "tracker": it must ask for nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from briefing.config import load_config
from briefing.pipeline import build, extract, poll
from briefing.publish.render import render_pdf
from tests.conftest import NOW_DT
from tests.faults import FaultServer, answer, rss


@pytest.fixture(scope="module")
def tracker() -> Iterator[FaultServer]:
    """A server that hostile content points at; any request to it is a failure."""
    with FaultServer("127.0.0.1") as server:
        yield server


def payloads(track: str) -> list[str]:
    return [
        "<script>alert('XSS1')</script>",
        "<img src=x onerror=alert('XSS2')>",
        '"><svg onload=alert("XSS3")>',
        "<iframe src=\"javascript:alert('XSS4')\"></iframe>",
        f'<link rel="stylesheet" href="{track}/evil.css">',
        f"<style>@import url({track}/import.css);</style>",
        f'<img src="{track}/pixel.png">',
        f"<div style=\"background:url('{track}/bg.png')\">XSS5</div>",
        "<object data='x.swf'></object><embed src='x.swf'>",
        "</title></style></textarea><script>alert('XSS6')</script>",
        "{{ 7*7 }}{% raw %}",  # template syntax is data too
    ]


def hostile_feed(track: str) -> bytes:
    links = [
        "javascript:alert('XSS-link')",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        f'{track}/ok" onmouseover="alert(1)',
    ]
    items = []
    for i, payload in enumerate(payloads(track)):
        items.append(
            {
                # Escaped markup in a title survives tag stripping as literal text; raw markup in
                # CDATA reaches the summary as HTML.
                "title": escape(f"T{i} {payload}"),
                "guid": f"hostile-{i}",
                "link": escape(links[i % len(links)]),
                "pubDate": "Tue, 10 Mar 2026 06:00:00 GMT",
                "description": f"<![CDATA[S{i} {payload} ransomware hits a hospital]]>",
                "author": escape(f"evil@example.com ({payload})"),
            }
        )
    return rss(items, title=escape("<script>alert('XSS-feed')</script>"))


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory, tracker: FaultServer) -> Path:
    folder = tmp_path_factory.mktemp("inject")
    with FaultServer("127.0.0.1") as server:
        url = server.route("/feed.xml", answer(hostile_feed(tracker.base_url)))
        config_path = folder / "feeds.yaml"
        config_path.write_text(
            "title: Injection test\n"
            "poll:\n  connect_timeout: 1\n  read_timeout: 2\n  total_timeout: 4\n  retries: 0\n"
            "extract:\n  workers: 1\n"
            f"feeds:\n  - name: '<b onclick=alert(1)>Hostile</b>'\n    url: {url}\n",
            encoding="utf-8",
        )
        config = load_config(config_path)
        out = folder / "out"
        poll(config, out, NOW_DT)
        extract(config, out, NOW_DT)
        build(config, out, NOW_DT, config.window_delta)
    return out


def html_files(output: Path) -> list[Path]:
    files = sorted(output.rglob("*.html"))
    assert len(files) >= 2  # the briefing and the archive index at least
    return files


def test_the_hostile_items_made_it_into_the_briefing(output: Path) -> None:
    data: dict[str, Any] = json.loads(
        (output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8")
    )
    titles = [s["title"] for story in data["stories"] for s in story["sources"]]
    assert len(titles) == len(payloads("http://x"))
    # Tags are stripped from titles on the way in; what is left (quotes, brackets, template
    # syntax) must reach the templates as text and be escaped there.
    assert any('">' in t for t in titles)
    assert any("{{ 7*7 }}" in t for t in titles)


@pytest.mark.parametrize("name", ["briefing.html", "index.html"])
def test_pages_carry_a_content_security_policy(output: Path, name: str) -> None:
    path = output / "2026-03-10" / name if name == "briefing.html" else output / name
    tree = lxml_html.fromstring(path.read_bytes())
    metas = tree.xpath("//meta[translate(@http-equiv,'CSP','csp')='content-security-policy']")
    assert metas, f"{name} has no CSP meta"
    policy = metas[0].get("content")
    assert "default-src 'none'" in policy
    assert "script-src" not in policy or "'unsafe-inline'" not in policy.split("script-src")[1]


def test_no_markup_from_the_feed_survives(output: Path) -> None:
    for path in html_files(output):
        tree = lxml_html.fromstring(path.read_bytes())
        where = path.name
        for script in tree.iter("script"):
            # Only the archive's own generated scripts, by relative path; no inline script.
            src = script.get("src") or ""
            assert src and ":" not in src and not src.startswith("/"), (where, src)
            assert (path.parent / src).is_file(), (where, src)
            assert not (script.text or "").strip(), where
        assert not tree.xpath("//iframe|//object|//embed|//frame|//frameset"), where
        # The templates may draw charts (inline SVG) and embed data: images; nothing external.
        assert not tree.xpath("//svg//script|//svg//foreignObject|//svg//image"), where
        for image in tree.iter("img"):
            assert (image.get("src") or "").startswith("data:"), where
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute in element.attrib:
                assert not attribute.lower().startswith("on"), (where, element.tag, attribute)
            style = element.get("style") or ""
            assert "url(" not in style, (where, style)
        for link in tree.iter("link"):
            assert "stylesheet" not in (link.get("rel") or ""), (where, link.get("href"))
        for style in tree.iter("style"):
            assert "@import" not in (style.text or ""), where
            assert "XSS" not in (style.text or ""), where


def test_links_are_http_only_and_external_ones_are_noopener(output: Path) -> None:
    for path in html_files(output):
        tree = lxml_html.fromstring(path.read_bytes())
        for anchor in tree.iter("a"):
            href = (anchor.get("href") or "").strip()
            scheme = href.split(":", 1)[0].lower() if ":" in href.split("/", 1)[0] else ""
            assert scheme in ("", "http", "https"), (path.name, href)
            assert not any(ord(ch) < 0x20 for ch in href), (path.name, href)
            if scheme:
                rel = set((anchor.get("rel") or "").split())
                assert {"noopener", "noreferrer"} <= rel, (path.name, href, rel)


def test_template_syntax_in_feed_text_is_not_evaluated(output: Path) -> None:
    text = (output / "2026-03-10" / "briefing.html").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in text or "{{ 7*7 }}" in text.replace("&#39;", "'")
    assert ">49<" not in text


def test_pdf_of_hostile_briefing_fetched_nothing(output: Path, tracker: FaultServer) -> None:
    assert (output / "2026-03-10" / "briefing.pdf").read_bytes().startswith(b"%PDF")
    assert tracker.requests == []


def test_pdf_fetcher_refuses_everything_but_bundled_assets(tracker: FaultServer) -> None:
    """Raw, unescaped hostile HTML straight into the renderer: still no request goes out."""
    track = tracker.base_url
    hostile = f"""<!DOCTYPE html><html><head>
    <link rel="stylesheet" href="{track}/a.css">
    <style>@import url("{track}/b.css"); body {{ background: url({track}/c.png); }}
    @font-face {{ font-family: x; src: url({track}/d.woff); }}</style></head>
    <body><h1>Hostile</h1><img src="{track}/e.png"><img src="file:///etc/passwd">
    <object data="{track}/f.svg"></object><embed src="{track}/g.svg">
    <iframe src="{track}/h.html"></iframe>
    <svg><image href="{track}/i.png"/></svg>
    <p style="background-image: url('{track}/j.png')">text</p></body></html>"""
    pdf = render_pdf(hostile)
    assert pdf.startswith(b"%PDF")
    assert tracker.requests == []


def test_search_index_is_data_not_code(output: Path) -> None:
    """The archive's search index is a script: feed text in it must stay inside JSON strings."""
    for path in output.rglob("search-index*.js"):
        text = path.read_text(encoding="utf-8")
        body = text[text.index("=") + 1 :].strip().removesuffix(";")
        entries = json.loads(body)  # one JSON value, nothing executable around it
        assert any("@import" in json.dumps(entry) for entry in entries)
        assert "</script" not in text.lower()
    for script in output.rglob("*.js"):
        code = script.read_text(encoding="utf-8")
        assert "innerHTML" not in code and "document.write" not in code, script.name


def test_archive_feed_is_well_formed_and_inert(output: Path) -> None:
    from lxml import etree

    for path in output.rglob("*.xml"):
        root = etree.fromstring(path.read_bytes())  # well-formed: no markup broke out
        assert not root.xpath("//*[local-name()='script' or local-name()='iframe']"), path


# --- the security review of issue #16: one hostile feed beside a trusted one ----------------

ADVISORY = (
    "Attackers are actively exploiting CVE-2026-21001 in a VPN gateway. Administrators should "
    "apply the fixed firmware at once and look for web shells under the upload folder."
)
LIE = "The CERT now says CVE-2026-21001 is a false alarm. Do not install the firmware. " * 3
SANDWORM = (
    "The Russian military group Sandworm attacked the Ukrainian energy grid again, researchers "
    "said, using new wiper malware against substations."
)


def review_feeds(base: str) -> dict[str, bytes]:
    date = "Tue, 10 Mar 2026 06:00:00 GMT"
    trusted = [
        # No GUID: the item's id is its link.
        {"title": "CERT advisory: patch CVE-2026-21001 now", "link": f"{base}/advisories/1"},
        {"title": "Sandworm hits the Ukrainian grid", "guid": "sw-1", "link": f"{base}/sw"},
    ]
    texts = [ADVISORY, SANDWORM]
    hostile = [
        ("CERT: CVE-2026-21001 is a false alarm, do not install", LIE, None),
        (
            "Grid attack in Poland",
            'Poland: the US-backed threat actor known as "Sandworm\u3164" hit a power company.',
            "h1",
        ),
        (
            "Telecom campaign",
            "The campaign against telecoms was run by Earth A" + "b" * 300 + " in March.",
            "h2",
        ),
        ("Invoice \u202eexe.pdf \u2066urgent\u2069", "A bidi trick in a title.", "h3"),
    ]
    hostile_items = []
    for n, (title, text, guid) in enumerate(hostile):
        item = {"title": escape(title), "pubDate": date, "description": escape(text)}
        # The forgery copies the trusted link with a tracking parameter and no GUID.
        item["link"] = escape(
            f"{base}/advisories/1?utm_source=blog" if guid is None else f"{base}/h{n}"
        )
        if guid:
            item["guid"] = guid
        hostile_items.append(item)
    controls = [
        {
            "title": "Controls \x01\x02\x1b in a title",
            "guid": "c1",
            "link": f"{base}/c1",
            "pubDate": date,
            "description": "A bell \x07 and an escape \x1b in the text.",
        }
    ]
    return {
        "/cert.xml": rss(
            [
                {**item, "pubDate": date, "description": text}
                for item, text in zip(trusted, texts, strict=True)
            ],
            title="CERT",
        ),
        "/blog.xml": rss(hostile_items, title="Blog"),
        "/controls.xml": rss(controls, title="Controls"),
    }


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("review")
    with FaultServer("127.0.0.1") as server:
        feeds = "".join(
            f"  - name: {path[1:].split('.')[0].upper()}\n    url: {server.route(path, answer(body))}\n"
            for path, body in review_feeds(server.base_url).items()
        )
        config_path = folder / "feeds.yaml"
        config_path.write_text(
            "title: Review\nextract:\n  workers: 1\n  fetch_pages: false\nfeeds:\n" + feeds,
            encoding="utf-8",
        )
        config = load_config(config_path)
        out = folder / "out"
        poll(config, out, NOW_DT)
        extract(config, out, NOW_DT)
        build(config, out, NOW_DT, config.window_delta)
    return out


def _day(output: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8")
    )
    return data


def test_a_forged_copy_of_a_trusted_link_changes_nothing_of_the_trusted_item(
    review: Path,
) -> None:
    story = next(
        s
        for s in _day(review)["stories"]
        if any(x["feed"] == "CERT" and "advisories" in x["url"] for x in s["sources"])
    )
    cert = next(x for x in story["sources"] if x["feed"] == "CERT")
    assert cert["title"] == "CERT advisory: patch CVE-2026-21001 now"
    assert story["title"] == "CERT advisory: patch CVE-2026-21001 now"
    assert "false alarm" not in story["summary"]


def test_a_lookalike_actor_does_not_rewrite_the_real_actors_page(review: Path) -> None:
    page = (review / "actors" / "sandworm.html").read_text(encoding="utf-8")
    assert "United States" not in page and "Attributed to Russia" in page
    html = (review / "2026-03-10" / "briefing.html").read_text(encoding="utf-8")
    ids = re.findall(r'id="(actor-[^"]+)"', html)
    assert ids and len(ids) == len(set(ids))


def test_a_very_long_actor_name_is_bounded(review: Path) -> None:
    names = [a["name"] for s in _day(review)["stories"] for a in s["actors"]]
    assert any(name.startswith("Earth Abbb") for name in names)
    assert all(len(name) <= 80 for name in names)
    assert all(len(page.name) <= 80 for page in (review / "actors").iterdir())


def test_feed_text_has_no_control_or_bidi_characters(review: Path) -> None:
    bad = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    data = _day(review)
    texts = [s["title"] for s in data["stories"]] + [s["summary"] for s in data["stories"]]
    texts += [x["title"] for s in data["stories"] for x in s["sources"]]
    assert any("Controls" in t for t in texts) and any("Invoice" in t for t in texts)
    assert not [t for t in texts if bad.search(t)]
    # And what bidi text remains (an Arabic title) is isolated where it is shown.
    html = (review / "2026-03-10" / "briefing.html").read_text(encoding="utf-8")
    assert re.search(r"\ba, \.chip[^{]*\{ unicode-bidi: isolate; \}", html)


def test_every_xml_output_parses_strictly(review: Path) -> None:
    from lxml import etree

    paths = list(review.rglob("*.xml"))
    assert paths
    for path in paths:
        etree.fromstring(path.read_bytes(), etree.XMLParser(recover=False))


def test_briefing_json_links_are_http_or_absent(output: Path) -> None:
    """Tools that render the JSON's links must not inherit what the HTML is protected from."""
    text = (output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    urls = [s["url"] for story in data["stories"] for s in story["sources"]]
    assert urls and None in urls  # the hostile links are gone, not the sources
    for url in urls:
        assert url is None or url.startswith(("http://", "https://")), url
    for scheme in ("javascript:", "file:", "data:", "vbscript:"):
        assert scheme not in text.lower().replace("\t", ""), scheme
