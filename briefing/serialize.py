"""``briefing.json``: the one writer and the one reader of the machine-readable briefing.

In: a ``Briefing`` (``to_json``, ``dumps``), or the file or its parsed object (``read``,
``from_json``). Out: the other. ``from_json(to_json(b))`` gives ``b`` back (indicators are
written defanged and read refanged), so render, archive, send and the CLI all read a stored
day through here, never by hand. The file is the public contract documented in the README:
fields are added, never renamed. Source links are http(s) or absent (``safe_url``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from briefing.intel.iocs import defang, refang
from briefing.models import (
    Briefing,
    CveRow,
    Entities,
    FeedHealth,
    IndicatorRow,
    Review,
    ReviewAction,
    Section,
    Source,
    Story,
    SummarySentence,
    slug,
)


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no ``javascript:``, ``data:``...)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ord(ch) < 0x20 or ch.isspace() for ch in url):
        return None
    return url


# --- writing ---------------------------------------------------------------------------


def _story_json(story: Story) -> dict[str, Any]:
    entities = story.entities.to_dict()
    # The story's own kind and victim (from its members, or its headline) speak for it.
    entities.pop("kind", None)
    entities.pop("victim", None)
    entities["indicators"] = {
        kind: [defang(value, kind) for value in values]
        for kind, values in story.entities.indicators
    }
    return {
        "id": story.id,
        "title": story.title,
        "summary": story.summary,
        "summary_sources": [
            {"text": sentence.text, "source": sentence.source} for sentence in story.sentences
        ],
        "score": story.score,
        "exploited": list(story.exploited),
        "kev": list(story.kev),
        "cvss": story.cvss,
        "kind": story.kind,
        "victim": story.victim,
        "published": story.published.isoformat(),
        "sources": [
            {
                "feed": source.feed,
                "title": source.title,
                # Whatever the feed said, only an http(s) link leaves here: a tool that shows
                # the JSON's links must not inherit a javascript: or file: link.
                "url": safe_url(source.url),
                "published": source.published.isoformat(),
                "quality": source.quality,
                "outlet": source.outlet,
            }
            for source in story.sources
        ],
        **entities,
        # A development of an earlier briefing's story: the day the event was first reported
        # and the story it continues (both null for a new story).
        "first_reported": story.first_reported,
        "previous": (
            {"date": story.previous[0], "id": story.previous[1]} if story.previous else None
        ),
        # An analyst pinned, merged, split or edited it (``briefing review``), and their note.
        "edited": story.edited,
        "analyst_note": story.note,
    }


def _review_json(review: Review) -> dict[str, Any]:
    return {
        "approved_at": review.approved_at.isoformat() if review.approved_at else None,
        "approved_by": review.approved_by,
        "actions": [
            {
                "seq": action.seq,
                "action": action.action,
                "by": action.by,
                "at": action.at.isoformat(),
                "stories": [{"id": sid, "title": title} for sid, title in action.stories],
                **dict(action.detail),
                # "gone": the story it acted on is not in this build (kept, and reported).
                "status": "applied" if action.applied else "gone",
            }
            for action in review.actions
        ],
    }


def _section_json(section: Section, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": section.title, "key": section.key}
    if kind == "actors":
        out["aliases"] = list(section.aliases)
        out["country"] = section.country
    elif kind in ("regions", "incidents"):
        out["countries"] = list(section.countries)
    elif kind == "vendors":
        out["products"] = list(section.products)
        out["exploited"] = list(section.exploited)
    elif kind == "malware":
        out["aliases"] = list(section.aliases)
    out["detail"] = section.detail
    out["story_ids"] = list(section.story_ids)
    return out


def to_json(briefing: Briefing) -> dict[str, Any]:
    """The ``briefing.json`` object of ``briefing`` (see the README for its fields)."""
    return {
        "title": briefing.title,
        "date": briefing.date,
        "window": {
            "start": briefing.window_start.isoformat(),
            "end": briefing.window_end.isoformat(),
        },
        # The clock the briefing was built for (``--now``), never the wall clock: the same
        # store and --now give a byte-identical file.
        "generated_at": briefing.window_end.isoformat(),
        "tlp": briefing.tlp,
        "generator": briefing.generated_with,
        "stories": [_story_json(story) for story in briefing.stories],
        "executive_summary": list(briefing.executive),
        # Stories that are bare catalogue entries (KEV, advisories), shown one line each.
        "catalogue": list(briefing.catalogue),
        # Industry, research and opinion pieces in no other part, one line each.
        "also_noted": list(briefing.also_noted),
        "other_stories": list(briefing.other_story_ids),
        "sections": {
            "actors": [_section_json(s, "actors") for s in briefing.by_actor],
            "regions": [_section_json(s, "regions") for s in briefing.by_region],
            "sectors": [_section_json(s, "sectors") for s in briefing.by_sector],
            "vendors": [_section_json(s, "vendors") for s in briefing.by_vendor],
            "incidents": [_section_json(s, "incidents") for s in briefing.by_incident],
            "malware": [_section_json(s, "malware") for s in briefing.by_malware],
            "campaigns": [_section_json(s, "campaigns") for s in briefing.by_campaign],
            "law_enforcement_policy": [_section_json(s, "actions") for s in briefing.by_action],
        },
        "cves": [
            {"id": row.id, "stories": list(row.story_ids), "exploited": row.exploited}
            for row in briefing.cves
        ],
        "feeds": [
            {
                "name": feed.name,
                "url": feed.url,
                "status": feed.status,
                "items": feed.items,
                "error": feed.error,
                "last_ok": feed.last_ok.isoformat() if feed.last_ok else None,
                "failures": feed.failures,
                "failing_since": feed.failing_since.isoformat() if feed.failing_since else None,
                "quality": {"full": feed.full, "feed-only": feed.feed_only, "failed": feed.failed},
            }
            for feed in briefing.feeds
        ],
        "review": _review_json(briefing.review),
    }


# --- reading -----------------------------------


def _dt(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sections(items: Any) -> tuple[Section, ...]:
    return tuple(
        Section(
            key=str(i.get("key") or slug(str(i["name"]))),
            title=str(i["name"]),
            detail=str(i.get("detail") or ""),
            story_ids=tuple(i.get("story_ids", i.get("stories", ()))),
            aliases=tuple(i.get("aliases", ())),
            country=i.get("country"),
            countries=tuple(i.get("countries", ())),
            products=tuple(i.get("products", ())),
            exploited=tuple(i.get("exploited", ())),
        )
        for i in items or ()
    )


def _previous(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and "date" in value and "id" in value:
        return (str(value["date"]), str(value["id"]))
    return None


_DETAIL = ("url", "title", "summary", "text")


def _review(value: Any) -> Review:
    if not isinstance(value, dict):
        return Review()
    return Review(
        approved_at=_dt(value["approved_at"]) if value.get("approved_at") else None,
        approved_by=value.get("approved_by"),
        actions=tuple(
            ReviewAction(
                seq=int(item["seq"]),
                action=str(item["action"]),
                by=str(item.get("by", "")),
                at=_dt(item["at"]),
                stories=tuple((str(s["id"]), str(s["title"])) for s in item.get("stories", ())),
                detail=tuple((name, str(item[name])) for name in _DETAIL if name in item),
                applied=item.get("status", "applied") == "applied",
            )
            for item in value.get("actions", ())
        ),
    )


def from_json(data: dict[str, Any]) -> Briefing:
    """The ``Briefing`` a ``briefing.json`` was written from (indicators refanged again), so a
    stored day can be rendered anew with today's templates."""
    stories = []
    for item in data.get("stories", []):
        entities = Entities.from_dict(item)
        # briefing.json shows indicators defanged; the model holds them refanged.
        entities = replace(
            entities,
            indicators=tuple(
                (kind, tuple(refang(value) for value in values))
                for kind, values in entities.indicators
            ),
        )
        stories.append(
            Story(
                id=str(item["id"]),
                title=str(item["title"]),
                summary=str(item.get("summary", "")),
                sources=tuple(
                    Source(
                        feed=str(src["feed"]),
                        title=str(src.get("title", "")),
                        url=src.get("url"),
                        published=_dt(src["published"]),
                        quality=src.get("quality", "failed"),
                        outlet=src.get("outlet"),
                    )
                    for src in item.get("sources", ())
                ),
                entities=entities,
                published=_dt(item["published"]),
                sentences=tuple(
                    SummarySentence(str(x["text"]), int(x.get("source", 0)))
                    for x in item.get("summary_sources", ())
                    if isinstance(x, dict)
                ),
                score=float(item.get("score", 0.0)),
                exploited=tuple(item.get("exploited", ())),
                first_reported=item.get("first_reported"),
                previous=_previous(item.get("previous")),
                kev=tuple(item.get("kev", ())),
                cvss=float(item["cvss"]) if item.get("cvss") is not None else None,
                victim=item.get("victim"),
                edited=bool(item.get("edited", False)),
                note=item.get("analyst_note"),
                kind=item.get("kind"),
            )
        )
    by_story = {story.id: story for story in stories}
    sections = data.get("sections", {})
    return Briefing(
        title=str(data.get("title", "")),
        date=str(data["date"]),
        window_start=_dt(data["window"]["start"]),
        window_end=_dt(data["window"]["end"]),
        tlp=str(data.get("tlp", "TLP:CLEAR")),
        stories=tuple(stories),
        by_actor=_sections(sections.get("actors")),
        by_region=_sections(sections.get("regions")),
        feeds=tuple(
            FeedHealth(
                name=str(f["name"]),
                url=str(f.get("url", "")),
                status=f.get("status", "never-polled"),
                items=int(f.get("items", 0)),
                error=f.get("error"),
                last_ok=_dt(f["last_ok"]) if f.get("last_ok") else None,
                failures=int(f.get("failures", 0)),
                failing_since=_dt(f["failing_since"]) if f.get("failing_since") else None,
                full=int(f.get("quality", {}).get("full", 0)),
                feed_only=int(f.get("quality", {}).get("feed-only", 0)),
                failed=int(f.get("quality", {}).get("failed", 0)),
            )
            for f in data.get("feeds", ())
        ),
        generated_with=str(data.get("generator", "")),
        executive=tuple(i for i in data.get("executive_summary", ()) if i in by_story),
        catalogue=tuple(str(i) for i in data.get("catalogue", ()) if i in by_story),
        other_story_ids=tuple(data.get("other_stories", ())),
        by_sector=_sections(sections.get("sectors")),
        by_vendor=_sections(sections.get("vendors")),
        by_incident=_sections(sections.get("incidents")),
        by_malware=_sections(sections.get("malware")),
        by_campaign=_sections(sections.get("campaigns")),
        by_action=_sections(sections.get("law_enforcement_policy")),
        also_noted=tuple(str(i) for i in data.get("also_noted", ()) if i in by_story),
        cves=tuple(
            CveRow(
                str(row["id"]),
                tuple(str(i) for i in row.get("stories", row.get("story_ids")) or ()),
                bool(row.get("exploited", False)),
            )
            for row in data.get("cves", ())
            if isinstance(row, dict)
        ),
        indicators=tuple(
            IndicatorRow(kind, value, story.id)
            for story in stories
            for kind, values in story.entities.indicators
            for value in values
        ),
        review=_review(data.get("review")),
    )


def dumps(briefing: Briefing) -> str:
    """The text of ``briefing.json``: the same briefing gives the same bytes."""
    return json.dumps(to_json(briefing), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def read(path: Path) -> Briefing | None:
    """The briefing stored in ``path``, or None if it is missing or damaged (one bad day must
    not break the archive)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
