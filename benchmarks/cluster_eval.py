"""Score the cluster stage: ``python -m benchmarks.cluster_eval [--pairs TSV] [--news PATH]``.

Two measurements, both pairwise precision and recall (a pair of items is "together" when the
cluster stage puts them in one story):

* ``--pairs`` (default ``tests/data/cluster_pairs.tsv``, in the repository): hand-labelled
  pairs of items from real feed snapshots, named by link, outlet and title only (no article
  text in the repository). Each snapshot file's items are clustered together, as one build sees
  its day; with ``--feeds DIR`` (the snapshots themselves, e.g. ``../shared/corpus/feeds``) the
  items carry the feeds' own text, without it their titles only. Pairs are split by a hash of
  their links into ``train`` (two thirds, what thresholds were set on) and ``test``.
* ``--news PATH`` (e.g. ``../shared/corpus/news``: ``items.json`` + ``gold.jsonl`` with an
  ``event`` slug per item): the items replayed day by day as ``briefing run --window 7d`` sees
  them (the items seen by that day and published in the seven days before its end, one feed
  carrying several outlets, feed text only); every pair of items in a day's window counts, per
  day and in total. It also scores continuation: a story whose event was in the previous day's
  briefing should point at that day's story of the event (``previous``), and no story should
  point at a different event.
* ``--news PATH --run DIR``: the same items through the real thing, ``briefing run --window
  7d`` once a day into one archive under DIR (a loopback feed of several outlets, feed text
  only); pairs are scored among the stories each day's briefing shows.

``--news`` replays the items in both ways readers subscribe: one feed per outlet, and one
aggregator feed (not flagged ``aggregator``) whose items name their outlet in ``<source>``.
The build day is an item's publication day when the set has one (news-train), else the
snapshot it was seen in (news).

Measured: see the README's "Clustering quality" (news-train cross-validated by block with
``python -m benchmarks.train_cluster``, news as the development set).

Out: a table on stdout; ``--verbose`` lists the wrong pairs.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from briefing.config import Config, FeedConfig
from briefing.intel import get_tagger
from briefing.intel.stage import Tagged
from briefing.models import Article, Entities, Entry, Source, Story
from briefing.store import canonical_url
from briefing.stories.cluster import (
    BACKGROUND,
    BACKGROUND_CHARS,
    Doc,
    cluster,
    docs_of,
)
from briefing.stories.continuity import DAYS, EarlierStory, continuations, story_doc
from briefing.stories.summarize import merge_entities

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "data" / "cluster_pairs.tsv"
WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Item:
    key: str  # link, or the news set's id
    day: str  # the day the item was first seen (news) or its snapshot file
    outlet: str
    title: str
    link: str
    text: str
    published: datetime
    event: str = ""


def _entities(item: Item) -> Entities:
    return get_tagger().tag(item.text, title=item.title, source_host=urlsplit(item.link).hostname)


def make_doc(item: Item) -> Doc:
    """A ``Doc`` as the cluster stage sees an item of a feed of its own outlet."""
    return make_docs([item], "outlet")[0]


MODES = ("outlet", "aggregator")


def make_docs(
    items: Sequence[Item], mode: str, entities: dict[str, Entities] | None = None
) -> list[Doc]:
    """The items as the cluster stage sees them (``docs_of``) when a reader subscribes to one
    feed per outlet (``outlet``), or to one aggregator feed whose items name their outlet in
    ``<source>`` and which the config does not mark ``aggregator`` (``aggregator``)."""
    tagged: list[Tagged] = []
    for item in items:
        feed = item.outlet if mode == "outlet" else "News"
        entry = Entry(
            item.key,
            feed,
            item.link,
            item.title,
            item.text,
            "",
            "",
            item.published,
            item.published,
            1,
            None if mode == "outlet" else item.outlet,
        )
        article = Article(
            item.key, item.link, item.title, item.text, "", item.published, None, "feed-only"
        )
        found = entities.get(item.key) if entities is not None else None
        tagged.append((entry, article, found if found is not None else _entities(item)))
    feeds = sorted({entry.feed for entry, _, _ in tagged}) or ["News"]
    config = Config(feeds=tuple(FeedConfig(name=f, url="http://127.0.0.1/f") for f in feeds))
    return docs_of(config, tagged)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, together: bool, same: bool) -> None:
        if together and same:
            self.tp += 1
        elif together:
            self.fp += 1
        elif same:
            self.fn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def row(self, name: str) -> str:
        return (
            f"{name:<28} P {self.precision:.3f}  R {self.recall:.3f}"
            f"  (tp {self.tp}, fp {self.fp}, fn {self.fn})"
        )


def story_of(groups: Sequence[Sequence[int]]) -> dict[int, int]:
    return {member: number for number, group in enumerate(groups) for member in group}


# --- labelled pairs --------------------------------------------------------------------------


def split_of(link_a: str, link_b: str) -> str:
    digest = hashlib.sha256("|".join(sorted((link_a, link_b))).encode()).digest()
    return "test" if digest[0] % 3 == 0 else "train"


def read_pairs(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    return list(csv.DictReader(lines, delimiter="\t"))


def snapshot_items(path: Path) -> dict[str, Item]:
    import feedparser

    from briefing.ingest.extract import feed_text
    from briefing.models import Entry

    parsed = feedparser.parse(str(path))
    out: dict[str, Item] = {}
    for entry in parsed.entries:
        content = entry["content"][0].get("value", "") if entry.get("content") else ""
        published = (
            datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC)
            if entry.get("published_parsed")
            else datetime(2000, 1, 1, tzinfo=UTC)
        )
        text = feed_text(
            Entry(
                "x",
                "F",
                entry.link,
                entry.title,
                entry.get("summary", ""),
                content,
                "",
                published,
                published,
                1,
            )
        )
        outlet = entry.get("source", {}).get("title") or urlsplit(entry.link).hostname or ""
        out[entry.link] = Item(
            entry.link, path.name, outlet, entry.title, entry.link, text, published
        )
    return out


def pair_items(rows: Sequence[dict[str, str]], feeds: Path | None) -> dict[str, dict[str, Item]]:
    """Per snapshot file (or "a+b", two read as one window), its items: every item of the
    snapshots when ``feeds`` has them, with their text; else the titles the pairs file names.
    Outlets are always the pairs file's (what ``compose`` would see as each item's voice)."""
    days: dict[str, dict[str, Item]] = {}
    outlets: dict[str, str] = {}
    for row in rows:
        outlets[row["link_a"]] = row["outlet_a"]
        outlets[row["link_b"]] = row["outlet_b"]
    for row in rows:
        name = row["file"]
        if name not in days:
            days[name] = {}
            for part in name.split("+"):
                if feeds is not None and (feeds / part).is_file():
                    days[name].update(snapshot_items(feeds / part))
        for side in ("a", "b"):
            link = row[f"link_{side}"]
            if link not in days[name]:
                days[name][link] = Item(
                    link,
                    name,
                    row[f"outlet_{side}"],
                    row[f"title_{side}"],
                    link,
                    "",
                    datetime(2000, 1, 1, tzinfo=UTC),
                )
        for link, item in days[name].items():
            if link in outlets and item.outlet != outlets[link]:
                days[name][link] = replace(item, outlet=outlets[link])
    return days


def score_pairs(
    rows: Sequence[dict[str, str]], feeds: Path | None
) -> tuple[dict[str, Score], list[tuple[str, dict[str, str], bool]]]:
    scores = {"train": Score(), "test": Score(), "all": Score()}
    wrong: list[tuple[str, dict[str, str], bool]] = []
    days = pair_items(rows, feeds)
    placed: dict[str, dict[str, int]] = {}
    for name, items in days.items():
        links = sorted(items)
        groups = cluster([make_doc(items[link]) for link in links])
        placed[name] = {links[i]: story for i, story in story_of(groups).items()}
    for row in rows:
        day = placed[row["file"]]
        together = day[row["link_a"]] == day[row["link_b"]]
        same = row["same"] == "1"
        split = split_of(row["link_a"], row["link_b"])
        scores[split].add(together, same)
        scores["all"].add(together, same)
        if together != same:
            wrong.append((split, row, together))
    return scores, wrong


# --- labelled news, replayed day by day ------------------------------------------------------


def read_news(path: Path) -> list[Item]:
    items = json.loads((path / "items.json").read_text(encoding="utf-8"))
    events = {
        gold["id"]: gold["event"]
        for gold in map(json.loads, (path / "gold.jsonl").read_text(encoding="utf-8").splitlines())
    }
    return [
        Item(
            key=item["id"],
            # The build day: the publication day when the set has one (news-train: two days
            # a block), else the snapshot it was seen in (news).
            day=item.get("day", item["first_seen"]),
            outlet=item["outlet"],
            title=item["title"],
            link=item["link"],
            text=item["text"],
            published=parsedate_to_datetime(item["published"]).astimezone(UTC),
            event=events[item["id"]],
        )
        for item in items
    ]


def windows(
    items: Sequence[Item], window: timedelta = WINDOW
) -> Iterable[tuple[str, list[Item], list[Item]]]:
    """Each day's window as ``briefing run --now DAYT23:59:59Z --window 7d`` reads the store:
    what was seen by that day and published in the window, oldest first; and the background
    (what the store holds from the weeks before the window)."""
    for day in sorted({item.day for item in items}):
        end = datetime.fromisoformat(day).replace(hour=23, minute=59, second=59, tzinfo=UTC)
        seen = [item for item in items if item.day <= day and item.published <= end]
        chosen = [item for item in seen if end - window < item.published]
        back = [item for item in seen if end - window - BACKGROUND < item.published <= end - window]
        yield day, sorted(chosen, key=lambda item: (item.published, item.key)), back


@dataclass
class Continuation:
    due: int = 0  # stories whose event was in the previous day's briefing
    linked: int = 0  # ... of which point at that day's story of the event
    pointers: int = 0  # stories that point at an earlier story
    wrong: int = 0  # ... of which point at a different event


def _archived(
    day: str, number: int, members: Sequence[Item], docs: Sequence[Doc], mode: str
) -> Story:
    """A story as a briefing stores it, as far as continuation reads it (the title of the
    longest-text source, its lead as the summary, the sources, the merged entities)."""
    best = max(range(len(members)), key=lambda i: (len(members[i].text), members[i].key))
    return Story(
        id=f"{day}-{number}",
        title=members[best].title,
        summary=members[best].text[:300],
        sources=tuple(
            Source(item.outlet, item.title, item.link, item.published, "feed-only")
            if mode == "outlet"
            else Source("News", item.title, item.link, item.published, "feed-only", item.outlet)
            for item in members
        ),
        entities=merge_entities([doc.entities for doc in docs]),
        published=min(item.published for item in members),
    )


def score_news(
    items: Sequence[Item],
    verbose: bool = False,
    mode: str = "outlet",
    entities: dict[str, Entities] | None = None,
) -> tuple[dict[str, Score], Continuation]:
    docs = {
        item.key: doc for item, doc in zip(items, make_docs(items, mode, entities), strict=True)
    }
    scores: dict[str, Score] = {"all": Score()}
    follow = Continuation()
    archive: list[tuple[str, list[tuple[EarlierStory, set[str]]]]] = []  # per day shown
    for day, chosen, back in windows(items):
        background = [f"{item.title} {item.text[:BACKGROUND_CHARS]}" for item in back]
        groups = cluster([docs[item.key] for item in chosen], background)
        story = story_of(groups)
        scores[day] = Score()
        for a in range(len(chosen)):
            for b in range(a + 1, len(chosen)):
                together = story[a] == story[b]
                same = chosen[a].event == chosen[b].event
                scores[day].add(together, same)
                scores["all"].add(together, same)
                if verbose and together != same:
                    print(
                        f"  {day} {'FP' if together else 'FN'}: {chosen[a].title!r}"
                        f" ~ {chosen[b].title!r}"
                    )
        start = date.fromisoformat(day) - timedelta(days=DAYS)
        recent = [(d, s) for d, s in archive if date.fromisoformat(d) >= start]
        earlier = [e for _, shown in recent for e, _ in shown]
        events_of = {(e.date, e.id): ev for _, shown in recent for e, ev in shown}
        previous_day = recent[-1] if recent else None
        found = continuations(
            [[docs[chosen[i].key] for i in group] for group in groups], earlier, background
        )
        shown: list[tuple[EarlierStory, set[str]]] = []
        for number, (group, result) in enumerate(zip(groups, found, strict=True)):
            if result.repeat:
                continue
            events = {chosen[i].event for i in group}
            if previous_day is not None and any(events & ev for _, ev in previous_day[1]):
                follow.due += 1
                if (
                    result.previous is not None
                    and result.previous.date == previous_day[0]
                    and events & events_of[(result.previous.date, result.previous.id)]
                ):
                    follow.linked += 1
                elif verbose:
                    print(f"  {day} not linked: {chosen[group[0]].title!r}")
            if result.previous is not None:
                follow.pointers += 1
                if not events & events_of[(result.previous.date, result.previous.id)]:
                    follow.wrong += 1
                    if verbose:
                        print(
                            f"  {day} wrong previous: {chosen[group[0]].title!r}"
                            f" -> {result.previous.doc.title!r}"
                        )
            members = [chosen[i] for i in group]
            record = _archived(day, number, members, [docs[m.key] for m in members], mode)
            doc, articles = story_doc(record)
            first = result.previous.first_reported if result.previous else day
            shown.append((EarlierStory(day, record.id, first, articles, doc), events))
        archive.append((day, shown))
    return scores, follow


def _rss(items: Sequence[Item]) -> bytes:
    from email.utils import format_datetime
    from xml.sax.saxutils import escape, quoteattr

    body = "".join(
        f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
        f'<guid isPermaLink="false">{escape(item.key)}</guid>'
        f"<pubDate>{format_datetime(item.published)}</pubDate>"
        f"<description>{escape(item.text)}</description>"
        f"<source url={quoteattr(item.link)}>{escape(item.outlet)}</source></item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>http://127.0.0.1/</link><description>replay</description>{body}</channel></rss>"
    ).encode()


def run_news(items: Sequence[Item], work: Path) -> tuple[dict[str, Score], Continuation]:
    """The labelled news through the real thing: one feed of several outlets on a loopback
    server carrying each day's new items, ``briefing run --window 7d`` once a day into one
    archive (feed text only: ``fetch_pages: false``). Pairs are scored among the items each
    day's briefing shows; continuation as in ``score_news``."""
    from click.testing import CliRunner

    from briefing.cli import cli
    from briefing.localsite import LocalSite, RecordedRequest, Response

    by_link = {canonical_url(item.link): item for item in items}
    today: list[bytes] = [b""]

    def feed(_request: RecordedRequest) -> Response:
        return Response(body=today[0], headers={"Content-Type": "application/rss+xml"})

    scores: dict[str, Score] = {"all": Score()}
    follow = Continuation()
    shown: dict[tuple[str, str], set[str]] = {}  # (date, story id) -> events
    previous_day: str | None = None
    (work / "site").mkdir(parents=True, exist_ok=True)
    with LocalSite(work / "site") as site:
        site.route("/feed.xml", feed)
        config = work / "feeds.yaml"
        config.write_text(
            "title: Replay\nextract:\n  fetch_pages: false\n  workers: 1\n"
            f"feeds:\n  - name: News\n    url: {site.base_url}/feed.xml\n",
            encoding="utf-8",
        )
        for day in sorted({item.day for item in items}):
            today[0] = _rss([item for item in items if item.day == day])
            result = CliRunner().invoke(
                cli,
                [
                    "run",
                    "-c",
                    str(config),
                    "-o",
                    str(work / "out"),
                    "--window",
                    "7d",
                    "--now",
                    f"{day}T23:59:59Z",
                ],
            )
            if result.exit_code != 0:
                raise SystemExit(f"briefing run failed on {day}: {result.output}")
            data = json.loads((work / "out" / day / "briefing.json").read_text("utf-8"))
            scores[day] = Score()
            members = [
                [by_link[canonical_url(src["url"])] for src in story["sources"]]
                for story in data["stories"]
            ]
            placed = [(item, n) for n, group in enumerate(members) for item in group]
            for a in range(len(placed)):
                for b in range(a + 1, len(placed)):
                    together = placed[a][1] == placed[b][1]
                    same = placed[a][0].event == placed[b][0].event
                    scores[day].add(together, same)
                    scores["all"].add(together, same)
            for story, group in zip(data["stories"], members, strict=True):
                events = {item.event for item in group}
                before = story.get("previous")
                if previous_day is not None and any(
                    events & ev for (d, _), ev in shown.items() if d == previous_day
                ):
                    follow.due += 1
                    if (
                        before
                        and before["date"] == previous_day
                        and events & shown.get((before["date"], before["id"]), set())
                    ):
                        follow.linked += 1
                if before:
                    follow.pointers += 1
                    if not events & shown.get((before["date"], before["id"]), set()):
                        follow.wrong += 1
                shown[(day, story["id"])] = events
            previous_day = day
    return scores, follow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster_eval")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--feeds", type=Path, default=None, help="the pairs' feed snapshots")
    parser.add_argument("--news", type=Path, default=None, help="labelled news: items + gold")
    parser.add_argument(
        "--run",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --news: also replay it through `briefing run` day by day into DIR",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    rows = read_pairs(args.pairs)
    scores, wrong = score_pairs(rows, args.feeds)
    text = "feed text" if args.feeds else "titles only"
    print(f"labelled pairs ({len(rows)}, {text})")
    for split, score in scores.items():
        print("  " + score.row(split))
    if args.verbose:
        for split, row, together in wrong:
            kind = "FP" if together else "FN"
            print(f"    {split} {kind}: {row['title_a']!r} ~ {row['title_b']!r}")
    if args.news is not None:
        read = read_news(args.news)
        tags = {item.key: _entities(item) for item in read}
        for mode in MODES:
            news, follow = score_news(read, args.verbose, mode, tags)
            print(f"labelled news, day by day (--window 7d), {mode} feeds")
            for day, score in news.items():
                print("  " + score.row(day))
            print(f"  continuation: {follow}")
        if args.run is not None:
            ran, follow = run_news(read_news(args.news), args.run)
            print("labelled news through `briefing run --window 7d`, day by day")
            for day, score in ran.items():
                print("  " + score.row(day))
            print(f"  continuation: {follow}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
