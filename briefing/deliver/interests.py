"""Readers' interests: a composed ``Briefing`` -> the briefing one recipient asked for.

In: the day's ``Briefing`` and a recipient's ``InterestsConfig`` (actors, regions, sectors,
keywords, vendors, kinds). Out: a ``Briefing`` holding only the matching stories, with every
section, table and id list that pointed at the others pruned, plus how many stories were left
out.

A story matches when it matches any listed value, compared case-insensitively with runs of
white space folded:

* actors: the actor's canonical name or any of its aliases or the words that matched it
  (``APT39`` finds a story tagged "APT39 (Chafer, Remix Kitten)", and so does ``chafer``);
* regions: a region's name, or the name or ISO code of a country the story says was targeted
  or mentioned (not the actor's attributed state: "Iran" should not pull in every Iranian
  actor's story abroad);
* sectors: a sector's name;
* keywords: a substring of the title, the summary, a source's title, a malware name or a CVE id
  (the story holds no full article text; these are what the reader sees);
* vendors: a vendor or one of its products, by any name or alias the vendor table knows
  ("Cisco", "Cisco Systems", "ASA", "Firepower Threat Defense"), that the story's title or
  summary names -- the stories the briefing lists under that vendor, and its other headlines;
  a product asks for that product only. A name the table lacks is compared with the vendors
  the headline names.

``kinds`` (``[vulnerability, incident]``, ``briefing.intel.kind.KINDS``) narrows instead: only
stories of those kinds, and among them those matching any other value given.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from briefing.config import InterestsConfig
from briefing.intel.vendors import vendor_table
from briefing.models import Briefing, Section, Story, VendorRef
from briefing.stories.topics import headline_vendors

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


@dataclass(frozen=True)
class Filtered:
    """A recipient's briefing and how many of the day's stories it left out."""

    briefing: Briefing
    others: int  # stories of the day that did not match
    total: int  # stories of the day


def labelled(pairs: Iterable[tuple[str, Sequence[str]]], separator: str) -> str:
    """``actors: APT39, Turla; regions: Europe``: each label with values, the rest left out."""
    return separator.join(f"{label}: {', '.join(values)}" for label, values in pairs if values)


def story_matches(story: Story, interests: InterestsConfig) -> bool:
    if interests.kinds and story.kind not in interests.kinds:
        return False
    if interests.kinds and interests.model_copy(update={"kinds": ()}).empty:
        return True  # kinds alone: every story of those kinds
    entities = story.entities
    actors = {_norm(value) for value in interests.actors}
    if actors:
        for actor in entities.actors:
            names = {actor.name, *actor.aliases, *actor.mentions}
            if actors & {_norm(name) for name in names}:
                return True
    regions = {_norm(value) for value in interests.regions}
    if regions:
        names = {region.name for region in entities.regions}
        for country in entities.countries:
            if country.role != "attributed":
                names.update((country.name, country.code))
        if regions & {_norm(name) for name in names}:
            return True
    sectors = {_norm(value) for value in interests.sectors}
    if sectors and sectors & {_norm(sector.name) for sector in entities.sectors}:
        return True
    if interests.vendors and any(
        _vendor_wanted(ref, interests.vendors) for ref in headline_vendors(story)
    ):
        return True
    if interests.keywords:
        haystack = _norm(
            "\n".join(
                [
                    story.title,
                    story.summary,
                    *(source.title for source in story.sources),
                    *(malware.name for malware in entities.malware),
                    *entities.cves,
                ]
            )
        )
        if any(_norm(keyword) in haystack for keyword in interests.keywords):
            return True
    return False


def _vendor_wanted(ref: VendorRef, wanted: Sequence[str]) -> bool:
    table = vendor_table()
    for value in wanted:
        known = table.lookup(value)
        if known is None:
            if _norm(value) in {_norm(name) for name in (ref.name, *ref.mentions)}:
                return True
            continue
        vendor, product = known
        if vendor == ref.name and (product is None or product in ref.products):
            return True
    return False


def _sections(sections: tuple[Section, ...], keep: set[str]) -> tuple[Section, ...]:
    out = []
    for section in sections:
        ids = tuple(sid for sid in section.story_ids if sid in keep)
        if ids:
            out.append(dataclasses.replace(section, story_ids=ids))
    return tuple(out)


def filter_briefing(briefing: Briefing, interests: InterestsConfig | None) -> Filtered:
    """The briefing for a reader with these interests (all of it when there are none)."""
    total = len(briefing.stories)
    if interests is None or interests.empty:
        return Filtered(briefing, others=0, total=total)
    stories = tuple(story for story in briefing.stories if story_matches(story, interests))
    keep = {story.id for story in stories}
    cves = tuple(
        dataclasses.replace(row, story_ids=ids)
        for row in briefing.cves
        if (ids := tuple(sid for sid in row.story_ids if sid in keep))
    )
    filtered = dataclasses.replace(
        briefing,
        stories=stories,
        by_actor=_sections(briefing.by_actor, keep),
        by_region=_sections(briefing.by_region, keep),
        by_sector=_sections(briefing.by_sector, keep),
        by_vendor=_sections(briefing.by_vendor, keep),
        by_incident=_sections(briefing.by_incident, keep),
        by_malware=_sections(briefing.by_malware, keep),
        by_campaign=_sections(briefing.by_campaign, keep),
        by_action=_sections(briefing.by_action, keep),
        also_noted=tuple(sid for sid in briefing.also_noted if sid in keep),
        executive=tuple(sid for sid in briefing.executive if sid in keep),
        other_story_ids=tuple(sid for sid in briefing.other_story_ids if sid in keep),
        cves=cves,
        indicators=tuple(row for row in briefing.indicators if row.story_id in keep),
    )
    return Filtered(filtered, others=total - len(stories), total=total)
