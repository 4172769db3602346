"""Bounds on what one feed controls: items per poll, text lengths, entities per article."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from briefing import bounds
from briefing.bounds import bound_entities, bound_items
from briefing.models import ActorRef, Entities, FeedItem

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def _item(n: int, published: datetime | None, **kw: str) -> FeedItem:
    base = {"title": f"t{n}", "summary": "s", "content": "", "author": ""}
    base.update(kw)
    return FeedItem("F", f"g{n}", f"https://f.example/{n}", published=published, **base)


def test_the_newest_items_are_taken_and_the_rest_counted() -> None:
    count = bounds.ITEMS_PER_POLL + 50
    # Oldest first in the document, with some undated: the newest dated ones win.
    items = [_item(n, T0 + timedelta(minutes=n)) for n in range(count)]
    items[-1] = _item(count - 1, None)
    kept, left_out = bound_items(items)
    assert left_out == 50
    assert len(kept) == bounds.ITEMS_PER_POLL
    assert [i.guid for i in kept] == [f"g{n}" for n in range(49, count - 1)]


def test_a_feed_under_the_bound_is_untouched_but_cleaned() -> None:
    kept, left_out = bound_items([_item(1, T0, title="A\x01\u202eB", summary="x\x02y")])
    assert left_out == 0 and (kept[0].title, kept[0].summary) == ("AB", "xy")


def test_text_fields_are_bounded() -> None:
    (item,), _ = bound_items(
        [_item(1, T0, title="T" * 5_000_000, summary="S" * 100_000, author="A" * 1000)]
    )
    assert len(item.title) == bounds.TITLE_MAX
    assert len(item.summary) == bounds.SUMMARY_MAX
    assert len(item.author) == bounds.AUTHOR_MAX


def _actor(name: str, in_kb: bool) -> ActorRef:
    return ActorRef(name, (), None, None, in_kb, (name,))


def test_entities_per_article_are_bounded_and_names_cleaned() -> None:
    made_up = tuple(_actor(f"Vendor Code {n}", False) for n in range(10_000))
    known = (_actor("Sandworm", True), _actor("APT39", True))
    entities = Entities(
        actors=(_actor("Earth A" + "b" * 300, False), *made_up, *known),
        cves=tuple(f"CVE-2026-{n:05d}" for n in range(600_000)),
        indicators=(
            ("ipv4", tuple(f"10.0.{n // 256}.{n % 256}" for n in range(700_000))),
            ("domain", ("a.example",)),
        ),
    )
    bounded = bound_entities(entities)
    names = [a.name for a in bounded.actors]
    new = [a for a in bounded.actors if not a.in_kb]
    assert len(new) == bounds.NEW_ACTORS_PER_ARTICLE
    assert "Sandworm" in names and "APT39" in names  # known actors are never crowded out
    assert all(len(n) <= 80 for n in names)
    assert len(bounded.cves) == bounds.CVES_PER_ARTICLE
    assert sum(len(v) for _k, v in bounded.indicators) == bounds.INDICATORS_PER_ARTICLE


def test_a_feed_of_too_many_items_stores_the_newest_and_says_how_many_were_left_out(
    tmp_path: Path,
) -> None:
    from briefing.ingest.intake import intake
    from briefing.store import Store
    from tests.faults import rss

    count = bounds.ITEMS_PER_POLL + 100
    items = [
        {
            "title": f"Item {n}",
            "guid": f"g{n}",
            "link": f"https://f.example/{n}",
            # The document lists the oldest first: the newest are at its end.
            "pubDate": (T0 + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        }
        for n in range(count)
    ]
    with Store.open(tmp_path / "s.sqlite3") as store:
        result = intake(
            store,
            "Flood",
            "https://f.example/feed",
            rss(items),
            {},
            "https://f.example/feed",
            T0 + timedelta(days=1),
        )
        assert (result.status, result.new) == ("degraded", bounds.ITEMS_PER_POLL)
        state = store.feed_state("Flood")
        assert state is not None and state.error is not None
        assert f"{count} items, 100 left out" in state.error
        titles = {
            e.title for e in store.entries_between(T0 - timedelta(days=1), T0 + timedelta(days=2))
        }
        assert "Item 100" in titles and f"Item {count - 1}" in titles and "Item 99" not in titles


def test_a_huge_document_is_cut_before_parsing_and_stays_well_formed() -> None:
    from lxml import etree

    from tests.faults import rss

    count = bounds.ITEMS_PARSED + 7
    body = rss([{"title": f"t{n}", "guid": f"g{n}"} for n in range(count)])
    cut, listed = bounds.cut_document(body)
    assert listed == count
    root = etree.fromstring(cut)  # still a whole document: the fast reader can take it
    assert len(root.findall("channel/item")) == bounds.ITEMS_PARSED
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>'
        + b"".join(b"<entry><id>%d</id></entry>" % n for n in range(count))
        + b"</feed>"
    )
    cut, listed = bounds.cut_document(atom)
    assert listed == count
    assert len(etree.fromstring(cut)) == 1 + bounds.ITEMS_PARSED
    small = rss([{"title": "t"}])
    assert bounds.cut_document(small) == (small, 1)
