"""Where a real news day's stories land: ``python -m benchmarks.sections_eval [ITEMS_JSON]``.

In: a JSON list of feed items ({id, first_seen, channel, outlet, title, link, published,
text}; default ``../shared/corpus/news/items.json`` relative to the repository). Each
``first_seen`` day becomes one briefing built from the feed text only (no page fetches), the
window ending at the day's last item. Out, per day: stories, how many sit in each part (actors,
regions, vendors, incidents, malware) and in "Other notable stories" (and, as "before", how
many had neither an actor nor a region: what "Other" held without the new parts); the check
for the vendor part: every story under a vendor must name the vendor or one of its products in
its title or summary (``--verbose`` lists the parts and the other stories). With a
``gold.jsonl`` beside the items, the hidden check's measures: executive-summary stories that
are no opinion or industry piece, vendor listings about that vendor's flaw (gold ``vendors``),
vulnerability items naming a vendor that are listed under it. Build per ``first_seen`` block,
one feed per outlet.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from briefing.config import Config, FeedConfig
from briefing.intel.stage import tag_articles
from briefing.intel.vendors import vendor_table
from briefing.models import Article, Briefing, Entry
from briefing.pipeline import brief

DEFAULT = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "news" / "items.json"
)


def _when(item: dict[str, Any]) -> datetime:
    try:
        return parsedate_to_datetime(str(item["published"])).astimezone(UTC)
    except (TypeError, ValueError, KeyError):
        return datetime.fromisoformat(str(item["first_seen"])).replace(tzinfo=UTC)


def _feed(item: dict[str, Any]) -> str:
    """One feed per outlet, as a reader subscribed to each outlet has."""
    return str(item.get("outlet") or item.get("channel") or "feed")


def build_day(items: list[dict[str, Any]]) -> Briefing:
    feeds = sorted({_feed(i) for i in items})
    config = Config(
        feeds=tuple(
            FeedConfig(name=f, url=f"https://{n}.example/feed") for n, f in enumerate(feeds)
        )
    )
    pairs = []
    end = max(_when(i) for i in items)
    for item in items:
        when = _when(item)
        entry = Entry(
            id=str(item["id"]),
            feed=_feed(item),
            link=item.get("link"),
            title=str(item["title"]),
            summary=str(item.get("text", "")),
            content="",
            author="",
            published=when,
            first_seen=when,
            revision=1,
            outlet=item.get("outlet"),
        )
        text = str(item.get("text", ""))
        pairs.append(
            (entry, Article(entry.id, entry.link, entry.title, text, "", when, "en", "feed-only"))
        )
    start = min(_when(i) for i in items) - timedelta(seconds=1)
    return brief(config, tag_articles(pairs).items, {}, start, end + timedelta(seconds=1))


def names_vendor(briefing: Briefing, vendor: str, story_id: str) -> bool:
    story = next(s for s in briefing.stories if s.id == story_id)
    seen = f"{story.title}\n{story.summary}".casefold()
    names = vendor_table().names_of(vendor) or (vendor,)  # a vendor the title gave
    return any(name.casefold() in seen for name in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    items = json.loads(args.items.read_text(encoding="utf-8"))
    gold_path = args.items.with_name("gold.jsonl")
    gold: dict[str, dict[str, Any]] = {}
    if gold_path.exists():
        for line in gold_path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            gold[str(row["id"])] = row
    for item in items:
        if str(item["id"]) in gold:
            gold[str(item["id"])]["link"] = item.get("link")
    checks = {"exec": [0, 0], "listing": [0, 0], "covered": [0, 0]}
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        days[str(item["first_seen"])].append(item)
    print(
        f"{'day':<11}{'stories':>8}{'actors':>8}{'regions':>8}{'vendors':>8}"
        f"{'incid.':>8}{'malware':>8}{'other':>7}{'share':>7}{'vendor ok':>11}"
    )
    total = other_total = was_total = 0
    bad: list[str] = []
    for day in sorted(days):
        b = build_day(days[day])
        parts = {
            name: {sid for section in sections for sid in section.story_ids}
            for name, sections in (
                ("actors", b.by_actor),
                ("regions", b.by_region),
                ("vendors", b.by_vendor),
                ("incidents", b.by_incident),
                ("malware", b.by_malware),
            )
        }
        listed = [(s.title, sid) for s in b.by_vendor for sid in s.story_ids]
        ok = sum(names_vendor(b, vendor, sid) for vendor, sid in listed)
        bad += [f"{day} {v}: {sid}" for v, sid in listed if not names_vendor(b, v, sid)]
        n, other = len(b.stories), len(b.other_story_ids)
        was = n - len(parts["actors"] | parts["regions"])
        was_total += was
        total += n
        other_total += other
        print(
            f"{day:<11}{n:>8}{len(parts['actors']):>8}{len(parts['regions']):>8}"
            f"{len(parts['vendors']):>8}{len(parts['incidents']):>8}{len(parts['malware']):>8}"
            f"{other:>7}{other / max(n, 1):>7.0%}{ok:>6}/{len(listed):<4}"
            f"  (before: {was} other, {was / max(n, 1):.0%})"
        )
        if gold:
            _gold_checks(b, gold, checks, args.verbose)
        if args.verbose:
            titles = {s.id: s.title for s in b.stories}
            for label, sections in (
                ("vendor", b.by_vendor),
                ("incident", b.by_incident),
                ("malware", b.by_malware),
            ):
                for section in sections:
                    print(f"  [{label}] {section.title} ({section.detail})")
                    for sid in section.story_ids:
                        print(f"      {titles[sid][:100]}")
            for sid in b.other_story_ids:
                print(f"  [other] {titles[sid][:100]}")
    print(
        f"{'all':<11}{total:>8}{'':>40}{other_total:>7}{other_total / max(total, 1):>7.0%}"
        f"  (before: {was_total} other, {was_total / max(total, 1):.0%})"
    )
    for line in bad:
        print("vendor not named in title or summary:", line)
    if gold:
        for name, label in (
            ("exec", "executive-summary stories that are not opinion or industry (gold)"),
            ("listing", "vendor listings whose story is a flaw of that vendor (gold)"),
            ("covered", "vulnerability items naming a vendor, listed under it (gold)"),
        ):
            good, n = checks[name]
            print(f"{label}: {good}/{n} = {good / max(n, 1):.2f}")
    return 0


def _same_vendor(a: str, b: str) -> bool:
    x, y = a.casefold(), b.casefold()
    return x in y or y in x


def _gold_checks(
    b: Briefing, gold: dict[str, dict[str, Any]], checks: dict[str, list[int]], verbose: bool
) -> None:
    """The hidden check's measures against the gold labels: a story's members are its
    sources (matched by link), its gold kinds and vendors those of its members."""
    by_link = {str(g.get("link")): g for g in gold.values() if g.get("link")}
    members: dict[str, list[dict[str, Any]]] = {}
    for story in b.stories:
        members[story.id] = [by_link[s.url] for s in story.sources if s.url in by_link]
    for sid in b.executive:
        kinds = {m["kind"] for m in members[sid]}
        ok = not kinds & {"opinion", "industry"}
        checks["exec"][0] += ok
        checks["exec"][1] += 1
        if verbose and not ok:
            print("  [exec: opinion/industry]", next(s.title for s in b.stories if s.id == sid))
    listed: dict[str, set[str]] = {}
    for section in b.by_vendor:
        for sid in section.story_ids:
            listed.setdefault(sid, set()).add(section.title)
            # Gold ``vendors``: whose product's flaw the item is about (GUIDE.md).
            ok = any(
                any(_same_vendor(section.title, v) for v in m.get("vendors", ()))
                for m in members[sid]
            )
            checks["listing"][0] += ok
            checks["listing"][1] += 1
            if verbose and not ok:
                title = next(s.title for s in b.stories if s.id == sid)
                print(f"  [listing not a flaw of {section.title}] {title[:90]}")
    for story in b.stories:
        for m in members[story.id]:
            if m["kind"] != "vulnerability" or not m.get("vendors"):
                continue
            ok = any(
                _same_vendor(v, name) for v in m["vendors"] for name in listed.get(story.id, ())
            )
            checks["covered"][0] += ok
            checks["covered"][1] += 1
            if verbose and not ok:
                print(f"  [vulnerability not under {m['vendors']}] {story.title[:90]}")


if __name__ == "__main__":
    sys.exit(main())
