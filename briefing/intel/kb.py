"""The offline threat-actor and malware knowledge base (tag stage, data side).

In: MISP galaxy cluster JSON files (the snapshot shipped inside ``pymispgalaxies``, CC0/BSD,
overridden cluster by cluster by files the user installed with ``briefing kb update``).
Out: a frozen ``KnowledgeBase``: actors (canonical name, aliases, attributed country, source
clusters, description excerpt), malware families, and exact normalised alias indexes.

Merging. ``threat-actor`` is the primary cluster: each of its entries is one actor. Entries of
the secondary actor clusters (in priority order ``mitre-intrusion-set``,
``mitre-enterprise-attack-intrusion-set``, ``microsoft-activity-group``, ``tidal-groups``,
then ransomware gangs from ``ransomware``) are folded into the actor whose canonical name has
the same key as the entry's own name; failing that, into the one actor that already owns
that key as an alias; failing that, into the one actor that owns most of the entry's
aliases (at least two); otherwise the entry becomes a new actor. Folding adds the entry's
names as aliases and fills a missing country. A MITRE ATT&CK group entry (in either MITRE
cluster) also merges threat-actor entries whose canonical names it lists among its own
names: ATT&CK states that they are one group (so APT35, Charming Kitten and TA453 become one
actor, as do APT29 and UNC2452). A ransomware-cluster entry counts as a gang
only when the cluster gives it a leak site (``links``) or a country.

Alias collisions (a key owned by several actors) are never merged; the rule, applied in order:
  1. the actor whose canonical name has that key wins;
  2. else the actor attested by more clusters (the better-established identity: this is why
     "Midnight Blizzard" and "NOBELIUM" resolve to APT29, not to MISP's separate UNC2452);
  3. else the actor that got the alias from the highest-priority cluster (the order above);
  4. else the actor that comes first in the clusters' file order.
A secondary-cluster entry whose own name is such a contested alias is folded into the winner
of this same rule rather than made a new actor. Placeholder names ("Unknown", "Other") are
dropped.
Losing actors still list the alias (so ``kb show`` tells the whole story) and
``KnowledgeBase.collisions`` records every contested key.

Naming. The merge works on MISP's names; the name an actor is then shown under is MITRE
ATT&CK's, where ATT&CK has the group (``_canonical``): reports and tools speak ATT&CK, and
MISP's first name is sometimes a campaign or one vendor's label (GhostEmperor for Salt Typhoon,
Operation C-Major for Transparent Tribe, Quilted Tiger for Patchwork). An APT<n> name stays
(APT35, not ATT&CK's Magic Hound); 28 of ~1,280 actors change name, every old name stays an
alias.

Loading takes ~0.3 s (the JSON parse is ~0.05 s); the result is cached process-wide by
``load_kb``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from briefing.errors import BriefingError
from briefing.intel.geo import country_code_for_name, country_name
from briefing.intel.normalize import alias_key

ActorKind = Literal["actor", "ransomware"]

ACTOR_CLUSTERS: tuple[str, ...] = (
    "threat-actor",
    "mitre-intrusion-set",
    "mitre-enterprise-attack-intrusion-set",
    "microsoft-activity-group",
    "tidal-groups",
    "ransomware",
    # Ours (data/clusters/ransomware-groups.json): ransomware and extortion groups of the
    # last years that the MISP snapshot lacks; the same format, so `kb update` replaces it.
    "ransomware-groups",
)
# Clusters whose entries are gangs known by their ransomware (kind "ransomware").
_RANSOM_CLUSTERS = frozenset({"ransomware", "ransomware-groups"})
MALWARE_CLUSTERS: tuple[str, ...] = ("malpedia", "mitre-malware", "mitre-tool", "ransomware")
KB_CLUSTERS: tuple[str, ...] = tuple(dict.fromkeys((*ACTOR_CLUSTERS, *MALWARE_CLUSTERS, "sector")))

_MITRE_ID_SUFFIX = re.compile(r"\s+-\s+[GS]\d{4}$")
_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
_RANSOM_SUFFIX = re.compile(r"\s+ransom(?:ware)?$", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_CITATION = re.compile(r"\(Citation:[^)]*\)|<sup>.*?</sup>|\[\d+\]")
_URL = re.compile(r"https?://\S+")
_WORD = re.compile(r"\b[a-z]{3,}\b")
_PLACEHOLDER_KEYS = frozenset({"unknown", "other", "na", "none", "test", "unnamed"})


def _common_words() -> frozenset[str]:
    """Ordinary words that are also KB names (``data/common_words.txt`` says which)."""
    raw = resources.files("briefing.intel").joinpath("data/common_words.txt").read_text("utf-8")
    return frozenset(w for line in raw.splitlines() for w in line.split("#")[0].split())


@dataclass(frozen=True)
class Actor:
    """One threat actor as the KB knows it."""

    id: int
    name: str  # canonical name
    aliases: tuple[str, ...]  # every other name, deduplicated by key, canonical excluded
    country_code: str | None  # attributed state, ISO 3166-1 alpha-2
    sources: tuple[str, ...]  # clusters that name it, priority order
    description: str  # short plain-text excerpt
    kind: ActorKind  # "ransomware": a gang known from the ransomware cluster only

    @property
    def country(self) -> str | None:
        return country_name(self.country_code) if self.country_code else None


@dataclass(frozen=True)
class MalwareFamily:
    id: int
    name: str
    aliases: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    actors: tuple[Actor, ...]
    actor_index: Mapping[str, int]  # alias_key -> actor id (collisions already resolved)
    collisions: Mapping[str, tuple[int, ...]]  # alias_key -> all actor ids claiming it
    malware: tuple[MalwareFamily, ...]
    malware_index: Mapping[str, int]  # alias_key -> malware id
    common_words: frozenset[str]  # lower-case ordinary words (data/common_words.txt)
    source_files: tuple[str, ...] = field(default=())

    def lookup(self, name: str) -> Actor | None:
        """The actor an exact (normalised) name denotes, or None."""
        idx = self.actor_index.get(alias_key(name))
        return None if idx is None else self.actors[idx]

    def lookup_malware(self, name: str) -> MalwareFamily | None:
        idx = self.malware_index.get(alias_key(name))
        return None if idx is None else self.malware[idx]

    def claimants(self, name: str) -> tuple[Actor, ...]:
        """Every actor that lists ``name`` (more than one when the alias is contested)."""
        key = alias_key(name)
        ids = self.collisions.get(key)
        if ids is None:
            idx = self.actor_index.get(key)
            return () if idx is None else (self.actors[idx],)
        return tuple(self.actors[i] for i in ids)


class KnowledgeBaseError(BriefingError):
    """A cluster file is missing, unreadable or not a MISP galaxy cluster."""


# --- locations ----------------------------------------------------------------------------


def packaged_clusters_dir() -> Path:
    """The MISP galaxy snapshot that ships inside ``pymispgalaxies``, found without importing
    the package (its import pulls in jsonschema: ~75 ms or more, for a path)."""
    spec = importlib.util.find_spec("pymispgalaxies")
    folders = list(spec.submodule_search_locations or ()) if spec else []
    if not folders:
        raise KnowledgeBaseError("pymispgalaxies is not installed: no packaged MISP clusters")
    return Path(folders[0]) / "data" / "misp-galaxy" / "clusters"


def data_dir() -> Path:
    """The user's data directory: $BRIEFING_DATA_DIR, else $XDG_DATA_HOME/briefing."""
    env = os.environ.get("BRIEFING_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "briefing"


def user_clusters_dir() -> Path:
    return data_dir() / "galaxy" / "clusters"


def own_clusters_dir() -> Path:
    """Clusters this package maintains itself (``data/clusters``)."""
    return Path(__file__).resolve().parent / "data" / "clusters"


def cluster_file(name: str) -> Path | None:
    """One cluster's file: the user's installed copy overrides the packaged one."""
    for base in (user_clusters_dir(), packaged_clusters_dir(), own_clusters_dir()):
        path = base / f"{name}.json"
        if path.is_file():
            return path
    return None


def cluster_files() -> dict[str, Path]:
    """Cluster name -> file for the KB's clusters (``cluster_file``)."""
    return {name: path for name in KB_CLUSTERS if (path := cluster_file(name)) is not None}


# --- building -----------------------------------------------------------------------------


def read_cluster(path: Path) -> dict[str, Any]:
    """Parse and sanity-check one MISP galaxy cluster file."""
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot read cluster: {exc}") from exc
    return validate_cluster(data, str(path))


def validate_cluster(data: Any, origin: str) -> dict[str, Any]:
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("values"), list)
        or not isinstance(data.get("type"), str)
    ):
        raise KnowledgeBaseError(
            f"{origin}: not a MISP galaxy cluster (needs 'type' and a 'values' list)"
        )
    return data


def _clean_name(value: str) -> str:
    name = _MITRE_ID_SUFFIX.sub("", value.strip())
    return name.strip()


def _clean_malware_name(value: str) -> str:
    name = _PAREN.sub("", _clean_name(value))
    stripped = _RANSOM_SUFFIX.sub("", name)
    return stripped if len(stripped) >= 3 else name


def _excerpt(description: str, limit: int = 400) -> str:
    text = _CITATION.sub("", _MD_LINK.sub(r"\1", description or ""))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > limit // 2 else text[:limit].rstrip() + "…"


def _display_name(name: str) -> str:
    # CrowdStrike/Secureworks write "WIZARD SPIDER"; briefings read better as "Wizard Spider".
    words = name.split()
    if len(words) > 1 and name.isupper() and all(w.isalpha() for w in words):
        return " ".join(w.capitalize() for w in words)
    # Ransomware leak-site trackers write gangs in lower case ("interlock"): a name is a name.
    if name.islower() and name[:1].isalpha():
        return " ".join(w[:1].upper() + w[1:] for w in words)
    return name


def _entry_country(meta: Mapping[str, Any]) -> str | None:
    raw = meta.get("country")
    if isinstance(raw, str) and len(raw) == 2 and raw.isalpha():
        return raw.upper()
    sponsor = meta.get("cfr-suspected-state-sponsor")
    if isinstance(sponsor, str):
        return country_code_for_name(sponsor)
    return None


@dataclass
class _Draft:
    id: int
    name: str
    names: dict[str, tuple[str, int]]  # key -> (surface, best source priority)
    country: str | None
    sources: list[str]
    description: str
    kind: ActorKind
    dead: bool = False  # absorbed into another draft by a MITRE merge
    # Its ATT&CK groups: (name, how many names the ATT&CK entry gives), in the order met.
    attack: list[tuple[str, int]] = field(default_factory=list)


def _entry_names(entry: Mapping[str, Any], malware: bool = False) -> list[str]:
    clean = _clean_malware_name if malware else _clean_name
    meta = entry.get("meta") or {}
    raw = [entry.get("value", ""), *list(meta.get("synonyms") or [])]
    out: list[str] = []
    for r in raw:
        if isinstance(r, str):
            n = clean(r)
            if n and alias_key(n) and alias_key(n) not in _PLACEHOLDER_KEYS:
                out.append(n)
    return out


def build_kb(files: Mapping[str, Path]) -> KnowledgeBase:
    """Build the merged knowledge base from cluster name -> file (see module docstring)."""
    clusters = {name: read_cluster(path) for name, path in files.items()}
    drafts: list[_Draft] = []
    owners: dict[str, list[int]] = {}  # key -> draft ids, in claim order
    canon: dict[str, list[_Draft]] = {}  # canonical key -> drafts

    def claim(d: _Draft, surface: str, prio: int) -> None:
        key = alias_key(surface)
        if not key:
            return
        old = d.names.get(key)
        if old is None or prio < old[1]:
            d.names[key] = (old[0] if old else surface, prio)
        lst = owners.setdefault(key, [])
        if d.id not in lst:
            lst.append(d.id)

    for prio, cname in enumerate(ACTOR_CLUSTERS):
        data = clusters.get(cname)
        if data is None:
            continue
        for entry in data["values"]:
            meta = entry.get("meta") or {}
            if cname == "ransomware" and not (meta.get("links") or meta.get("country")):
                continue
            names = _entry_names(entry, malware=cname in _RANSOM_CLUSTERS)
            if not names:
                continue
            country = _entry_country(meta)
            target = None if cname == "threat-actor" else _match_draft(names, drafts, owners)
            if target is not None and cname in _MERGING_CLUSTERS:
                target = _merge_named(names, target, canon, owners)
            if target is None:
                target = _Draft(
                    id=len(drafts),
                    name=names[0],
                    names={},
                    country=country,
                    sources=[],
                    description=_excerpt(entry.get("description", "")),
                    kind="ransomware" if cname in _RANSOM_CLUSTERS else "actor",
                )
                drafts.append(target)
                canon.setdefault(alias_key(target.name), []).append(target)
            if cname in _MERGING_CLUSTERS and names[0] not in (n for n, _ in target.attack):
                target.attack.append((names[0], len(names)))
            if cname not in target.sources:
                target.sources.append(cname)
            if target.country is None:
                target.country = country
            if not target.description:
                target.description = _excerpt(entry.get("description", ""))
            if cname not in _RANSOM_CLUSTERS and target.kind == "ransomware":
                target.kind = "actor"
            for n in names:
                claim(target, n, prio)

    # Drop drafts absorbed by a MITRE merge and renumber the rest densely.
    dead = _absorbed(drafts)
    alive = [d for d in drafts if d.id not in dead]
    renum = {d.id: i for i, d in enumerate(alive)}
    for d in alive:
        d.id = renum[d.id]
    owners = {
        k: list(dict.fromkeys(renum[i] for i in ids if i in renum)) for k, ids in owners.items()
    }
    drafts = alive

    actor_index: dict[str, int] = {}
    collisions: dict[str, tuple[int, ...]] = {}
    for key, ids in owners.items():
        if len(ids) == 1:
            actor_index[key] = ids[0]
            continue
        collisions[key] = tuple(ids)
        actor_index[key] = _resolve_collision(key, ids, drafts)

    shown = {d.id: _canonical(d, actor_index) for d in drafts}
    actors = tuple(
        Actor(
            id=d.id,
            name=_display_name(shown[d.id]),
            aliases=tuple(
                surface for key, (surface, _) in d.names.items() if key != alias_key(shown[d.id])
            ),
            country_code=d.country,
            sources=tuple(d.sources),
            description=d.description,
            kind=d.kind,
        )
        for d in drafts
    )
    malware, malware_index = _build_malware(clusters)
    return KnowledgeBase(
        actors=actors,
        actor_index=actor_index,
        collisions=collisions,
        malware=malware,
        malware_index=malware_index,
        common_words=_lexicon(clusters.values()) | _common_words(),
        source_files=tuple(str(p) for p in files.values()),
    )


_APT_NUMBER = re.compile(r"APT\s?-?\d+", re.IGNORECASE)


def _canonical(d: _Draft, actor_index: Mapping[str, int]) -> str:
    """The name an actor goes by: MITRE ATT&CK's where ATT&CK has the group -- the names
    reports use (Salt Typhoon, not GhostEmperor; Transparent Tribe, not Operation C-Major;
    Patchwork, not Quilted Tiger) -- except over an APT<n> name, which every vendor reads (APT35,
    not Magic Hound), or when the MISP name is an ATT&CK name too (Lazarus Group, with APT38
    folded into it). Of several ATT&CK groups folded into one actor, the one whose entry lists
    the most names is the main one (Patchwork, not its campaign MONSOON; Dragonfly, not
    Dragonfly 2.0); a name that resolves to another actor is never taken. The merge itself
    (which entries are one actor, who wins a contested alias) is decided as before."""
    attack = [(name, size) for name, size in d.attack if actor_index.get(alias_key(name)) == d.id]
    if (
        not attack
        or _APT_NUMBER.fullmatch(d.name)
        or alias_key(d.name) in {alias_key(name) for name, _ in d.attack}
    ):
        return d.name
    return max(attack, key=lambda group: group[1])[0]  # max keeps the first of equals


def _match_draft(
    names: list[str], drafts: list[_Draft], owners: dict[str, list[int]]
) -> _Draft | None:
    keys = [alias_key(n) for n in names]
    primary = keys[0]
    for did in owners.get(primary, []):
        if alias_key(drafts[did].name) == primary:
            return drafts[did]
    claimed = owners.get(primary, [])
    if claimed:
        return drafts[_resolve_collision(primary, claimed, drafts)]
    votes: Counter[int] = Counter()
    # dict, not set: iteration order must not depend on the hash seed (ties in the vote).
    for k in dict.fromkeys(keys):
        for did in owners.get(k, []):
            votes[did] += 1
    if votes:
        (best, n), *rest = votes.most_common()
        if n >= 2 and (not rest or rest[0][1] < n):
            return drafts[best]
    return None


_MERGING_CLUSTERS = frozenset({"mitre-intrusion-set", "mitre-enterprise-attack-intrusion-set"})


def _absorbed(drafts: list[_Draft]) -> set[int]:
    return {d.id for d in drafts if d.dead}


def _merge_named(
    names: list[str], target: _Draft, canon: dict[str, list[_Draft]], owners: dict[str, list[int]]
) -> _Draft:
    """MITRE ATT&CK lists one group's names: threat-actor entries whose *canonical* names
    are among them are the same actor and are folded into ``target``."""
    keys = dict.fromkeys(alias_key(n) for n in names)  # ordered: the KB is reproducible
    for d in [d for k in keys for d in canon.get(k, ())]:
        if d is target or d.dead:
            continue
        for key, (surface, prio) in d.names.items():
            old = target.names.get(key)
            if old is None or prio < old[1]:
                target.names[key] = (old[0] if old else surface, prio)
            lst = owners.setdefault(key, [])
            lst[:] = [target.id if i == d.id else i for i in lst]
            lst[:] = list(dict.fromkeys(lst))
        for src in d.sources:
            if src not in target.sources:
                target.sources.append(src)
        if target.country is None:
            target.country = d.country
        target.attack.extend(group for group in d.attack if group not in target.attack)
        d.dead = True
    return target


def _resolve_collision(key: str, ids: list[int], drafts: list[_Draft]) -> int:
    for did in ids:
        if alias_key(drafts[did].name) == key:
            return did

    def rank(did: int) -> tuple[int, int, int]:
        d = drafts[did]
        return (-len(d.sources), d.names[key][1], did)

    return min(ids, key=rank)


def _build_malware(
    clusters: Mapping[str, Mapping[str, Any]],
) -> tuple[tuple[MalwareFamily, ...], dict[str, int]]:
    names_by_id: list[list[str]] = []
    sources_by_id: list[list[str]] = []
    index: dict[str, int] = {}
    for cname in MALWARE_CLUSTERS:
        data = clusters.get(cname)
        if data is None:
            continue
        for entry in data["values"]:
            names = _entry_names(entry, malware=True)
            if not names:
                continue
            keys = [alias_key(n) for n in names]
            mid = next((index[k] for k in keys if k in index), None)
            if mid is None:
                mid = len(names_by_id)
                names_by_id.append([])
                sources_by_id.append([])
            if cname not in sources_by_id[mid]:
                sources_by_id[mid].append(cname)
            for n, k in zip(names, keys, strict=False):
                if k not in index:
                    index[k] = mid
                    names_by_id[mid].append(n)
    fams = tuple(
        MalwareFamily(id=i, name=ns[0], aliases=tuple(ns[1:]), sources=tuple(sources_by_id[i]))
        for i, ns in enumerate(names_by_id)
    )
    return fams, index


def _lexicon(clusters: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Words the clusters' own prose uses in lower case at least twice: ordinary words."""
    counts: Counter[str] = Counter()
    for data in clusters:
        for entry in data["values"]:
            desc = entry.get("description")
            if isinstance(desc, str) and desc:
                counts.update(_WORD.findall(_URL.sub(" ", _MD_LINK.sub(r"\1", desc))))
    return frozenset(w for w, n in counts.items() if n >= 2)


def cache_dir() -> Path:
    """Where the built KB is cached: $BRIEFING_DATA_DIR/cache, else $XDG_CACHE_HOME/briefing."""
    env = os.environ.get("BRIEFING_DATA_DIR")
    if env:
        return Path(env).expanduser() / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "briefing"


def _signature(files: Mapping[str, Path]) -> str:
    """Changes whenever a source cluster or the code that shapes the KB changes."""
    h = hashlib.sha256()
    code = [
        Path(__file__),
        Path(__file__).with_name("geo_data.py"),
        Path(__file__).with_name("data") / "common_words.txt",
        Path(__file__).with_name("normalize.py"),
    ]
    for path in [*sorted(files.values()), *code]:
        st = path.stat()
        h.update(f"{path}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


@lru_cache(maxsize=1)
def load_kb() -> KnowledgeBase:
    """The process-wide knowledge base (user clusters over packaged ones).

    Building takes ~0.5 s; the result is pickled in ``cache_dir()`` keyed by the source
    files' sizes and mtimes (and this code's), so later processes load it in ~0.1 s. A cache
    that cannot be read or written is rebuilt or skipped silently: it is only a cache.
    """
    files = cluster_files()
    if "threat-actor" not in files:
        raise KnowledgeBaseError("no threat-actor cluster found (is pymispgalaxies installed?)")
    cache = cache_dir() / f"kb-{_signature(files)}.pickle"
    try:
        with cache.open("rb") as fh:
            kb = pickle.load(fh)
        if isinstance(kb, KnowledgeBase):
            return kb
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    kb = build_kb(files)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob("kb-*.pickle"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(kb, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cache)
    except OSError:
        pass
    return kb
