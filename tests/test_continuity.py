"""Stories that continue across days: the two-day fixture (tests/fixtures/days/MANIFEST.md)
built day by day into one archive, and ``continuations`` on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from briefing.cli import cli
from briefing.localsite import LocalSite
from briefing.models import ActorRef, Entities, Source, Story
from briefing.stories.cluster import Doc
from briefing.stories.continuity import EarlierStory, continuations, story_doc
from tests.conftest import write_config

DAYS = Path(__file__).parent / "fixtures" / "days"
DAY1, DAY2 = "2026-03-09", "2026-03-10"


def _feeds(base: str, day: str) -> str:
    return "".join(
        f"  - name: {name}\n    url: {base}/{day}/{path}/feed.xml\n"
        for name, path in (("Harbor", "a"), ("Eastwind", "b"), ("Meridian", "c"))
    )


def _build(folder: Path, base: str, day: str, feeds: str, now: str) -> dict[str, Any]:
    config = write_config(folder / day, base, feeds=_feeds(base, feeds))
    output = folder / "out"
    result = CliRunner().invoke(
        cli, ["run", "-c", str(config), "-o", str(output), "--now", now, "--window", "7d"]
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads((output / day / "briefing.json").read_text("utf-8"))
    return data


def _by_link(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        source["url"].rsplit("/", 1)[-1]: story
        for story in data["stories"]
        for source in story["sources"]
    }


@pytest.fixture(scope="module")
def two_days(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    folder = tmp_path_factory.mktemp("days")
    (folder / DAY1).mkdir()
    (folder / DAY2).mkdir()
    with LocalSite(DAYS) as site:
        first = _build(folder, site.base_url, DAY1, "day1", "2026-03-09T08:00:00Z")
        second = _build(folder, site.base_url, DAY2, "day2", "2026-03-10T08:00:00Z")
    return folder / "out", first, second


def test_day_one_tells_the_event_once_and_keeps_the_others_apart(
    two_days: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    _, first, _ = two_days
    stories = _by_link(first)
    telecom = stories["apt39-gulf-telecoms.html"]
    assert stories["iran-apt39-telecoms.html"] is telecom
    assert stories["chafer-telecom-subscribers.html"] is telecom
    assert stories["oilrig-energy-jobs.html"] is not telecom
    assert stories["ransomware-affiliates-arrested.html"] is not telecom
    assert len(first["stories"]) == 3
    assert all(s["previous"] is None and s["first_reported"] is None for s in first["stories"])


def test_day_two_marks_the_development_and_keeps_the_new_campaign_new(
    two_days: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    _, first, second = two_days
    day1 = _by_link(first)["apt39-gulf-telecoms.html"]
    stories = _by_link(second)
    update = stories["apt39-telecoms-confirmed.html"]
    assert update["previous"] == {"date": DAY1, "id": day1["id"]}
    assert update["first_reported"] == DAY1
    campaign = stories["remix-kitten-airlines.html"]
    assert campaign is not update
    assert campaign["previous"] is None
    assert [a["name"] for a in campaign["actors"]] == [a["name"] for a in day1["actors"]]
    # Nothing new on the other two day-one stories: not repeated.
    assert "oilrig-energy-jobs.html" not in stories
    assert "ransomware-affiliates-arrested.html" not in stories
    assert len(second["stories"]) == 2


def test_the_update_links_to_the_earlier_day_in_html(
    two_days: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    output, first, _ = two_days
    day1 = _by_link(first)["apt39-gulf-telecoms.html"]
    page = (output / DAY2 / "briefing.html").read_text("utf-8")
    assert f"Update — first reported {DAY1}" in page
    assert f'href="../{DAY1}/briefing.html#story-{day1["id"]}"' in page


def test_the_actor_page_counts_the_continued_story_once_with_its_days(
    two_days: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    output, first, _ = two_days
    name = _by_link(first)["apt39-gulf-telecoms.html"]["actors"][0]["name"]
    page = (output / "actors" / f"{name.lower()}.html").read_text("utf-8")
    assert "2 stories on 2 days" in page  # the telecom event (two days) and the new campaign
    assert page.count('class="story"') == 2
    assert f"{DAY1}, {DAY2}" in page  # the telecom event's days


# --- continuations() on its own --------------------------------------------------------------

APT = Entities(actors=(ActorRef("APT39", (), "Iran", "IR", True, ()),))


def _earlier(title: str, summary: str, url: str, cves: tuple[str, ...] = ()) -> EarlierStory:
    when = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    story = Story(
        id="s1",
        title=title,
        summary=summary,
        sources=(Source("Old Wire", title, url, when, "feed-only"),),
        entities=Entities(cves=cves),
        published=when,
    )
    doc, articles = story_doc(story)
    return EarlierStory(DAY1, "s1", DAY1, articles, doc)


def test_a_repeat_is_every_source_already_shown() -> None:
    earlier = [_earlier("Router flaw exploited", "Attackers exploit a router flaw.", "https://o/1")]
    old = Doc(
        "Old Wire", "https://o/1", "Router flaw exploited", "Attackers exploit it.", Entities()
    )
    new = Doc(
        "New Wire", "https://n/2", "Router flaw exploited", "Attackers exploit it.", Entities()
    )
    repeat, grown = continuations([[old], [old, new]], earlier)
    assert repeat.repeat and repeat.previous is not None
    assert not grown.repeat and grown.previous is not None and grown.previous.id == "s1"


def test_a_link_first_seen_in_a_reading_list_does_not_make_a_later_story_a_repeat() -> None:
    # Day 1: a feed's "weekly reading list" links the address where an advisory will appear.
    earlier = [
        _earlier(
            "Weekly reading list: ten links worth your time",
            "Links we liked this week about cloud costs and hiring.",
            "https://vendor.example/advisories/2026-001",
        )
    ]
    # Day 2: the real advisory at that address.
    real = Doc(
        "vendor.example",
        "https://vendor.example/advisories/2026-001",
        "Critical flaw in Acme gateway exploited to steal sessions",
        "Attackers exploit a critical flaw in the Acme gateway to steal session cookies.",
        Entities(),
    )
    (result,) = continuations([[real]], earlier)
    assert not result.repeat
    assert result.previous is None  # nor does the reading list become its earlier story


def test_a_conflicting_cve_is_never_a_continuation() -> None:
    text = "Attackers exploit a critical flaw in a mail gateway to steal mailboxes of agencies."
    earlier = [_earlier("Mail gateway flaw exploited", text, "https://o/1", ("CVE-2026-1000",))]
    today = Doc(
        "New Wire",
        "https://n/9",
        "Mail gateway flaw exploited",
        text,
        Entities(cves=("CVE-2026-2000",)),
    )
    (result,) = continuations([[today]], earlier)
    assert result.previous is None and not result.repeat


def test_no_earlier_briefing_means_nothing_continues() -> None:
    doc = Doc("W", "https://n/1", "Title here", "Text.", APT)
    assert continuations([[doc]], []) == [continuations([[doc]], [])[0]]
    (result,) = continuations([[doc]], [])
    assert result.previous is None and not result.repeat


def test_the_config_sets_how_far_back_a_story_continues(
    two_days: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    from briefing.config import Config, FeedConfig
    from briefing.pipeline import history

    output, _, _ = two_days
    end = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
    start = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    feeds = (FeedConfig(name="F", url="https://feeds.example/f"),)
    assert Config(feeds=feeds).continuity_days == 7

    def days(window: int) -> set[str]:
        earlier, _ = history(Config(feeds=feeds, continuity_days=window), output, start, end)
        return {story.date for story in earlier}

    assert days(1) == set()
    assert days(2) == {DAY2}
    assert days(7) == {DAY1, DAY2}
