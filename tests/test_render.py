"""The rendered briefing: a PDF an analyst can read (contents, page X of Y, embedded fonts,
charts, cards, tables) and a self-contained HTML page; hostile input stays inert."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from benchmarks.samples import synthetic_briefing
from briefing.config import Config, FeedConfig
from briefing.models import Source
from briefing.publish.render import (
    PDF_GROUPS,
    PDF_ROWS,
    Trend,
    actor_trend,
    environment,
    render_html,
    render_pdf,
    write_briefing,
)
from briefing.serialize import from_json, to_json


def _config(**extra: Any) -> Config:
    return Config(feeds=(FeedConfig(name="x", url="https://example.org/feed"),), **extra)


@pytest.fixture(scope="module")
def pdf_reader() -> PdfReader:
    config = _config()
    html = render_html(synthetic_briefing(24), config, environment(config), "pdf")
    return PdfReader(io.BytesIO(render_pdf(html)))


def test_pdf_has_contents_and_page_x_of_y_on_every_page(pdf_reader: PdfReader) -> None:
    pages = [page.extract_text() for page in pdf_reader.pages]
    assert len(pages) > 3
    assert "Contents" in pages[0]
    # The contents carry page numbers (target-counter): "Stories · p. 4".
    assert re.search(r"Stories · p\. \d+", pages[0])
    for number, text in enumerate(pages, 1):
        assert f"page {number} of {len(pages)}" in text, f"page {number} lacks its footer"
        assert "Daily Threat Briefing" in text and "2026-03-10" in text  # running header


def test_pdf_embeds_every_font(pdf_reader: PdfReader) -> None:
    fonts = 0
    for page in pdf_reader.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        for font in resources.get("/Font", {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts += 1
    assert fonts


def test_pdf_sections_are_all_there(pdf_reader: PdfReader) -> None:
    text = "\n".join(page.extract_text() for page in pdf_reader.pages)
    for heading in (
        "Executive summary",
        "At a glance",
        "By actor",
        "By region",
        "Stories",
        "Vulnerabilities (CVEs)",
        "Indicators appendix",
        "Feed health",
        "TLP:AMBER",
    ):
        assert heading in text
    assert "203[.]0[.]113" in text  # indicators defanged


@pytest.mark.parametrize(("size", "width"), [("A4", 595), ("Letter", 612)])
def test_page_size_follows_the_config(size: str, width: int) -> None:
    config = _config(page_size=size)
    html = render_html(synthetic_briefing(2), config, environment(config), "pdf")
    reader = PdfReader(io.BytesIO(render_pdf(html)))
    assert round(float(reader.pages[0].mediabox.width)) == width


def test_html_is_self_contained_accessible_and_dark_on_screen_only() -> None:
    config = _config()
    env = environment(config)
    briefing = synthetic_briefing(12)
    html = render_html(briefing, config, env, "html")
    pdf_html = render_html(briefing, config, env, "pdf")
    assert '<link rel="stylesheet"' not in html and "<script" not in html
    assert "prefers-color-scheme: dark" in html and "prefers-color-scheme" not in pdf_html
    assert html.count("<h1") == 1
    levels = [int(n) for n in re.findall(r"<h([1-6])", html)]
    assert all(b - a <= 1 for a, b in pairwise(levels)), "heading skips"
    for svg in re.findall(r"<svg[^>]*>", html):
        assert 'role="img"' in svg and "aria-label=" in svg
    assert 'href="../actors/apt39.html"' in html  # chips link the archive's actor pages
    assert "../actors/" not in pdf_html  # the PDF has no archive around it


def test_hostile_story_stays_inert() -> None:
    config = _config()
    briefing = synthetic_briefing(2)
    evil = replace(
        briefing.stories[0],
        title='<img src="http://198.51.100.7/x.png" onerror="alert(1)">',
        summary="<script>alert(2)</script><iframe src=//evil.example>",
        sentences=(),
        sources=(
            Source("Evil", "t", "javascript:alert(3)", briefing.stories[0].published, "full"),
        ),
    )
    hostile = replace(briefing, stories=(evil, *briefing.stories[1:]))
    html = render_html(hostile, config, environment(config), "html")
    assert "<img" not in html and "<script>" not in html and "<iframe" not in html
    assert "javascript:" not in html
    assert re.search(r"<a [^>]*href=\"https?://", html) is not None
    for tag in re.findall(r"<a [^>]*href=\"https?://[^>]*>", html):
        assert 'rel="noopener noreferrer"' in tag
    # WeasyPrint never fetches: a remote image in the markup is refused, not loaded.
    pdf = render_pdf('<img src="http://127.0.0.1:9/x.png"><p>ok</p>')
    assert pdf.startswith(b"%PDF")


def test_actor_trend_counts_stored_entities_per_day() -> None:
    from briefing.models import ActorRef, Entities, Entry, NamedRef

    briefing = synthetic_briefing(6)
    config = _config()
    apt39 = ActorRef("APT39", ("Chafer",), "Iran", "IR", True, ("Chafer",))

    def tagged(day: int, n: int, entities: Entities) -> tuple[Entry, Entities]:
        moment = briefing.window_end.replace(day=day, hour=3)
        entry = Entry(f"{day}-{n}", "f", None, "t", "", "", "", moment, moment, 1)
        return entry, entities

    rows = [
        tagged(9, 1, Entities(actors=(apt39,))),
        tagged(9, 2, Entities(actors=(apt39, apt39))),  # one article counts once
        tagged(4, 1, Entities(actors=(apt39,))),
        # The text may say "APT39" anywhere: what counts is what the tagger found.
        tagged(8, 1, Entities(malware=(NamedRef("APT39", ("APT39",)),))),
        tagged(1, 1, Entities(actors=(apt39,))),  # before the seven days
    ]
    trend = actor_trend(briefing, rows, config.zone)
    assert trend.days[0] == "03-04" and trend.days[-1] == "03-10"
    series = next(s for s in trend.series if s.label == "APT39")
    assert series.values == (1, 0, 0, 0, 0, 2, 0)


def test_write_briefing_writes_four_files(tmp_path: Path) -> None:
    config = _config()
    trend = Trend(days=("03-09", "03-10"), series=())
    folder = write_briefing(synthetic_briefing(3), config, tmp_path, trend)
    assert sorted(p.name for p in folder.iterdir()) == [
        "briefing.html",
        "briefing.json",
        "briefing.pdf",
        "briefing.stix.json",
    ]
    assert "trend-chart" in (folder / "briefing.html").read_text(encoding="utf-8")


def test_two_renders_are_byte_identical() -> None:
    """The same Briefing gives the same HTML and the same PDF bytes (no date, no random id)."""
    config = _config()
    trend = Trend(days=("03-09", "03-10"), series=())
    outputs = []
    for _ in range(2):
        env = environment(config)
        html = render_html(synthetic_briefing(8), config, env, "html", trend)
        pdf_html = render_html(synthetic_briefing(8), config, env, "pdf", trend)
        outputs.append((html, pdf_html, render_pdf(pdf_html)))
    assert outputs[0] == outputs[1]
    pdf = outputs[0][2]
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf and b"uuid" not in pdf


def test_pdf_chips_keep_every_entity(pdf_reader: PdfReader) -> None:
    """On paper countries and regions share one chip; none of them is lost on the way."""
    text = "\n".join(page.extract_text() for page in pdf_reader.pages)
    story = synthetic_briefing(24).stories[0]
    targets = [c.name for c in story.entities.countries if c.role != "attributed"]
    for name in (*targets, *(r.name for r in story.entities.regions)):
        assert name in text.replace("\xa0", " ")
    assert f"{targets[0]} · {story.entities.regions[0].name}" in text.replace("\xa0", " ")


def test_pdf_long_tail_is_one_line_each_and_loses_no_story() -> None:
    config = _config(pdf_story_cards=3)
    briefing = synthetic_briefing(12)
    env = environment(config)
    pdf_html = render_html(briefing, config, env, "pdf")
    assert pdf_html.count('class="story"') == 3
    assert pdf_html.count('class="story-line"') == 9
    text = " ".join(
        (page.extract_text() or "") for page in PdfReader(io.BytesIO(render_pdf(pdf_html))).pages
    )
    text = " ".join(text.split())
    assert "Also in the window" in text
    for story in briefing.stories:
        assert " ".join(story.title.split())[:40] in text
    # On screen every story keeps its card.
    assert render_html(briefing, config, env, "html").count('class="story"') == 12


def test_sub_regions_read_under_the_smallest_region_of_the_day_holding_them() -> None:
    from briefing.models import Section
    from briefing.publish.render import region_groups

    def section(title: str, *ids: str) -> Section:
        return Section(key=title.lower().replace(" ", "-"), title=title, detail="", story_ids=ids)

    regions = [
        section("Europe", "a", "b"),
        section("Asia-Pacific", "c"),
        section("Western Europe", "a"),
        section("Gulf", "d"),  # its Middle East is not in the day: it stands alone
        section("Asia", "c"),
        section("East Asia", "c"),
        section("Southeast Asia", "c"),
    ]
    grouped = [(top.title, [sub.title for sub in subs]) for top, subs in region_groups(regions)]
    assert grouped == [
        ("Europe", ["Western Europe"]),
        # East Asia lies in Asia and in Asia-Pacific: the smaller one holds it.
        ("Asia-Pacific", ["East Asia", "Southeast Asia"]),
        ("Gulf", []),
        ("Asia", []),
    ]


def test_broadest_drops_regions_another_one_holds() -> None:
    from briefing.publish.render import broadest

    assert broadest(["Middle East", "Gulf", "Europe", "South Asia"]) == [
        "Middle East",
        "Europe",
        "South Asia",
    ]
    assert broadest(["Asia", "Asia-Pacific", "East Asia", "Southeast Asia"]) == [
        "Asia",
        "Asia-Pacific",
    ]
    assert broadest(["Gulf"]) == ["Gulf"]


def test_pdf_is_the_morning_read_and_says_what_it_left_to_the_html() -> None:
    """A big day on paper: the top stories, the largest groups, the rows of the stories on
    paper and the failing feeds; the ranks stay the HTML's and the counts the whole day's."""
    config = _config(pdf_story_cards=4, pdf_stories=10)
    briefing = synthetic_briefing(60)
    env = environment(config)
    pdf_html = render_html(briefing, config, env, "pdf")
    assert pdf_html.count('class="story"') == 4
    assert pdf_html.count('class="story-line"') == 6
    assert "On paper: the top 10 of 60 stories" in pdf_html
    assert '<span class="n">60</span><span class="what">stories</span>' in pdf_html
    on_paper = {s.id for s in briefing.stories[:10]}
    tail = briefing.stories[10:]
    assert not any(f'id="story-{s.id}"' in pdf_html for s in tail)
    assert not any(f'href="#story-{s.id}"' in pdf_html for s in tail)  # no dangling link
    cve_rows = [row for row in briefing.cves if set(row.story_ids) & on_paper]
    assert pdf_html.count('<td class="mono">CVE-') == min(len(cve_rows), PDF_ROWS)
    ok = [feed for feed in briefing.feeds if feed.status == "ok"]
    assert f"{len(ok)} of {len(briefing.feeds)} feeds ok" in pdf_html
    assert not any(f"<td>{feed.name}</td>" in pdf_html for feed in ok)
    failing = [feed for feed in briefing.feeds if feed.status != "ok"]
    assert failing and all(f"<td>{feed.name}</td>" in pdf_html for feed in failing)
    assert pdf_html.count('class="group actor"') <= PDF_GROUPS
    html = render_html(briefing, config, env, "html")
    assert html.count('class="story"') == 60 and "On paper" not in html
    assert all(f"<td>{feed.name}</td>" in html for feed in briefing.feeds)


def test_cve_and_indicator_tables_are_bounded_and_say_what_they_left_out() -> None:
    """One feed naming thousands of CVEs or addresses does not make a 100 MB page: the tables
    stop at a bound and point at briefing.json, which keeps every row."""
    from briefing import bounds
    from briefing.models import CveRow, IndicatorRow

    briefing = synthetic_briefing(2)
    story = briefing.stories[0].id
    many = replace(
        briefing,
        cves=tuple(CveRow(f"CVE-2026-{n:05d}", (story,), False) for n in range(3000)),
        indicators=tuple(
            IndicatorRow("ipv4", f"8.8.{n // 256}.{n % 256}", story) for n in range(3000)
        ),
    )
    config = _config()
    env = environment(config)
    pdf_html = render_html(many, config, env, "pdf")
    assert pdf_html.count('<td class="mono">CVE-2026-') == PDF_ROWS
    assert f"{3000 - PDF_ROWS} more CVEs are listed in briefing.json" in pdf_html
    assert f"{3000 - PDF_ROWS} more indicators" in pdf_html
    html = render_html(many, config, env, "html")
    assert html.count('<td class="mono">CVE-2026-') == bounds.HTML_TABLE_ROWS
    assert len(to_json(many)["cves"]) == 3000


def test_pdf_shows_cjk_arabic_and_cyrillic_titles_without_missing_glyphs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Titles in Chinese, Japanese, Korean, Arabic and Cyrillic: WeasyPrint finds a glyph for
    every character (it logs ".notdef" for one it cannot draw) and embeds the CJK font that
    ./dev installs (fonts-wqy-zenhei)."""
    titles = (
        "勒索软件攻击医院 日本語のタイトル",
        "해킹 그룹이 은행을 공격했다",
        "هجوم إلكتروني على بنك — атака на банк",
    )
    briefing = synthetic_briefing(3)
    briefing = replace(
        briefing,
        stories=tuple(replace(s, title=t) for s, t in zip(briefing.stories, titles, strict=True)),
    )
    config = _config()
    with caplog.at_level("WARNING", logger="weasyprint"):
        pdf = render_pdf(render_html(briefing, config, environment(config), "pdf"))
    assert not [r for r in caplog.records if "notdef" in r.getMessage()]
    reader = PdfReader(io.BytesIO(pdf))
    fonts = set()
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts |= {str(f.get_object()["/BaseFont"]) for f in resources.get("/Font", {}).values()}
    assert any("WenQuanYi" in name for name in fonts), fonts
    text = "".join(page.extract_text() or "" for page in reader.pages)
    assert "勒索软件" in text and "해킹" in text and "атака" in text


def test_a_story_naming_a_hundred_cves_has_a_dozen_chips_on_paper() -> None:
    briefing = synthetic_briefing(2)
    story = briefing.stories[0]
    many = replace(story.entities, cves=tuple(f"CVE-2026-{n:05d}" for n in range(100)))
    briefing = replace(briefing, stories=(replace(story, entities=many), *briefing.stories[1:]))
    config = _config()
    env = environment(config)
    pdf_html = render_html(briefing, config, env, "pdf")
    assert pdf_html.count('<span class="chip cve') == 12 + 1
    assert "+88 more CVEs" in pdf_html
    assert render_html(briefing, config, env, "html").count('<span class="chip cve') >= 100


def test_catalogue_entries_are_one_line_each_and_developments_say_so() -> None:
    config = _config()
    briefing = synthetic_briefing(6)
    entry, later = briefing.stories[4], briefing.stories[5]
    followed = replace(
        briefing.stories[0], first_reported="2026-03-07", previous=("2026-03-09", "s0")
    )
    briefing = replace(
        briefing,
        stories=(followed, *briefing.stories[1:]),
        catalogue=(entry.id, later.id),
        executive=tuple(i for i in briefing.executive if i not in {entry.id, later.id}),
    )
    html = render_html(briefing, config, environment(config), "html")
    assert html.count('id="h-catalogue"') == 1
    catalogue = html.split('id="h-catalogue"', 1)[1].split("</section>", 1)[0]
    assert catalogue.count("<li") == 2 and f'id="story-{entry.id}"' in catalogue
    assert html.count(f'id="story-{entry.id}"') == 1  # a line, not also a card
    assert 'href="../2026-03-09/briefing.html#story-s0"' in html
    assert "Update — first reported 2026-03-07" in html and "(last 2026-03-09)" in html
    data = json.loads(json.dumps(to_json(briefing)))
    assert data["catalogue"] == [entry.id, later.id]
    assert data["stories"][0]["previous"] == {"date": "2026-03-09", "id": "s0"}
    assert data["stories"][0]["first_reported"] == "2026-03-07"
    assert to_json(from_json(data)) == data


def test_pdf_contents_and_parts_follow_the_storys_kind() -> None:
    """The parts by kind are in the contents and in the body, read back from the PDF; an
    "Also noted" piece is a line there, not a story card."""
    from datetime import timedelta

    from tests.conftest import NOW_DT, compose_pairs
    from tests.test_compose import CONFIG, KINDS_DAY

    briefing = compose_pairs(CONFIG, KINDS_DAY, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    assert briefing.by_campaign and briefing.by_action and briefing.also_noted
    html = render_html(briefing, CONFIG, environment(CONFIG), "pdf")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(html))).pages]
    text = "\n".join(pages)
    for entry in ("Campaigns", "Law enforcement and policy", "Also noted"):
        assert re.search(entry + r" · p\. \d+", pages[0]), entry  # in the contents, with a page
    for heading in (
        "Campaigns by actor or malware family",
        "Law enforcement and policy by country",
        "Incidents and breaches by victim sector",
    ):
        assert heading in text
    assert "Northwind Health" in text and "Netherlands" in text
    noted = text[text.index("Industry news, research and commentary") :]
    assert "Security startup raises $50 million" in noted
    assert "industry" in noted
    stories = text[text.index("Stories", text.index("Contents") + 200) :]
    cards = stories[: stories.find("Also noted")]
    assert "Series B" not in cards  # no card for it
