"""Score the tagger: ``python -m benchmarks.tag_eval [PATH] [--news NEWS]``.

Two kinds of gold, each scored per split and never pooled: AnnoCTR threat reports (``train``
is what rules and the decider may be tuned on, ``dev`` is what we report) and labelled security
news (``--news``: ``items.json`` + ``gold.jsonl``, see ``../shared/corpus/news/README.md``),
tagged as ``briefing tag --jsonl`` would see it: the title and the feed's text.

In (AnnoCTR): a folder with ``train/`` and/or ``dev/`` splits, each holding ``gold.jsonl`` (one
line: ``doc``, ``groups`` [{label, mentions}], ``locations`` {surface: count}, ``sectors``
{surface: count}) and ``text/<doc>.txt``. Default: ``../shared/corpus/annoctr`` relative to the
repository. Out: a table on stdout (and, with ``--verbose``, the weakest documents).

Scoring (document level, each distinct gold string once per document):
* actors: a gold label is resolved through the KB's alias index to a canonical actor (else
  compared as a normalised name); it is found when a predicted actor is that actor or lists
  the label among its aliases. A predicted actor no gold label names is a false positive,
  unless the text itself calls that name ransomware/malware ("REvil ransomware"): ransomware
  brands double as gang names and AnnoCTR labels only groups.
* locations: each gold surface string is mapped by the tagger's own geography to countries
  and named regions; it is found when the output's countries or regions contain one of them
  or one of the output's mentions equals it. Strings that map to nothing (organisations,
  states of mind, typos) count as misses; the "mappable" column leaves them out.
* sectors: the same with sectors.
* throughput: all texts tagged repeatedly for about 3 s of the process's own CPU time (one
  core; CPU time, so that other work on a shared machine does not count), KB load excluded.

Scoring (news, item level, precision and recall over sets):
* actors: a gold name resolved through the KB as above; a predicted actor matches a gold name
  when it is the same KB actor or the name is among its name, aliases and mentions. An unnamed
  state actor ("Unnamed North Korea-linked actors") is no actor here: it scores as attributed.
* attributed: ISO codes of the countries the tagger marks ``attributed`` and of its actors'
  states, against the gold ``attributed``.
* countries: the tagger's ``target`` and ``mentioned`` countries against the gold
  ``countries`` (where victims are, or whose jurisdiction acts); the attacker's state is not
  one.
* sectors: the tagger's sectors against the gold victim sectors (the guide's list is the
  tagger's canonical list).
* malware: neither gold set labels malware; the table counts what is tagged, for a look.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefing.intel.normalize import alias_key
from briefing.intel.tagger import Tagger, _misp_sectors, get_tagger, reset_tagger
from briefing.models import Entities

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DEFAULT = CORPUS / "annoctr"
SPLITS = ("train", "dev")


@dataclass
class DocScore:
    doc: str
    actor_gold: int = 0
    actor_found: int = 0
    actor_pred: int = 0
    actor_tp: int = 0
    actor_missed: list[str] = field(default_factory=list)
    actor_fp: list[str] = field(default_factory=list)
    loc_gold: int = 0
    loc_found: int = 0
    loc_mappable: int = 0
    loc_found_mappable: int = 0
    loc_missed: list[str] = field(default_factory=list)
    sec_gold: int = 0
    sec_found: int = 0
    sec_mappable: int = 0
    sec_found_mappable: int = 0
    sec_missed: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return (
            len(self.actor_missed) * 2
            + len(self.actor_fp) * 2
            + len(self.loc_missed)
            + len(self.sec_missed)
        )


def _clean_gold(s: str) -> str:
    # AnnoCTR strings are tokenised ("U.S .", "Iran ’ s"): undo the spaces before punctuation.
    s = re.sub(r"\s+([.,’'])", r"\1", s)
    s = re.sub(r"([’'])\s+", r"\1", s)
    return s.strip(" -")


def load_docs(root: Path) -> list[tuple[str, str, dict[str, Any]]]:
    docs: list[tuple[str, str, dict[str, Any]]] = []
    for split in SPLITS:
        gold = root / split / "gold.jsonl"
        if not gold.is_file():
            continue
        for line in gold.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            g = json.loads(line)
            text = (root / split / "text" / f"{g['doc']}.txt").read_text(encoding="utf-8")
            docs.append((f"{split}/{g['doc']}", text, g))
    return docs


def score_doc(
    tagger: Tagger, name: str, text: str, gold: dict[str, Any], ents: Entities
) -> DocScore:
    kb = tagger.kb
    sc = DocScore(name)
    # --- actors
    pred = list(ents.actors)
    pred_keys = [{alias_key(a.name), *(alias_key(x) for x in a.aliases)} for a in pred]
    pred_ids: list[int | None] = []
    for a in pred:
        known = kb.lookup(a.name) if a.in_kb else None
        pred_ids.append(known.id if known else None)
    matched_pred: set[int] = set()
    seen_gold: set[str] = set()
    for grp in gold.get("groups", []):
        label = str(grp["label"])
        actor = kb.lookup(label) or next(
            (kb.lookup(m) for m in grp.get("mentions", []) if kb.lookup(m)),
            None,
        )
        gkey = actor.name if actor else alias_key(label)
        if gkey in seen_gold:
            continue
        seen_gold.add(gkey)
        sc.actor_gold += 1
        hit = False
        for i in range(len(pred)):
            if (actor is not None and pred_ids[i] == actor.id) or alias_key(label) in pred_keys[i]:
                hit = True
                matched_pred.add(i)
        if hit:
            sc.actor_found += 1
        else:
            sc.actor_missed.append(label)
    low = text.lower()
    for i, a in enumerate(pred):
        if i in matched_pred:
            sc.actor_pred += 1
            sc.actor_tp += 1
            continue
        as_malware = any(
            re.search(re.escape(m.lower()) + r"\W+(?:ransomware|malware)", low) for m in a.mentions
        )
        if as_malware:
            continue
        sc.actor_pred += 1
        sc.actor_fp.append(f"{a.name} ({'/'.join(a.mentions)})")
    # --- locations
    out_codes = {c.code for c in ents.countries}
    out_regions = {r.name for r in ents.regions}
    out_mentions = {m for c in ents.countries for m in c.mentions} | {
        m for r in ents.regions for m in r.mentions
    }
    for raw in gold.get("locations", {}):
        s = _clean_gold(str(raw))
        sc.loc_gold += 1
        g = tagger.tag(s)
        codes = {c.code for c in g.countries}
        regions = {r.name for r in g.regions if r.mentions}
        mappable = bool(codes or regions)
        sc.loc_mappable += mappable
        if codes & out_codes or regions & out_regions or s in out_mentions:
            sc.loc_found += 1
            sc.loc_found_mappable += mappable
        else:
            sc.loc_missed.append(s)
    out_sectors = {x.name for x in ents.sectors}
    out_sec_mentions = {m.lower() for x in ents.sectors for m in x.mentions}
    for raw in gold.get("sectors", {}):
        s = _clean_gold(str(raw))
        sc.sec_gold += 1
        g = tagger.tag(s)
        names = {x.name for x in g.sectors}
        mappable = bool(names)
        sc.sec_mappable += mappable
        if names & out_sectors or s.lower() in out_sec_mentions:
            sc.sec_found += 1
            sc.sec_found_mappable += mappable
        else:
            sc.sec_missed.append(s)
    return sc


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


@dataclass
class SetScore:
    """Precision and recall of one entity kind over a set of items."""

    tp: int = 0
    pred: int = 0
    gold: int = 0
    fp: list[str] = field(default_factory=list)
    fn: list[str] = field(default_factory=list)

    def add(self, item: str, pred: set[str], gold: set[str]) -> None:
        self.tp += len(pred & gold)
        self.pred += len(pred)
        self.gold += len(gold)
        self.fp += [f"{item}: {x}" for x in sorted(pred - gold)]
        self.fn += [f"{item}: {x}" for x in sorted(gold - pred)]

    def row(self) -> str:
        p, r = _ratio(self.tp, self.pred), _ratio(self.tp, self.gold)
        return f"P {p}  R {r}  ({self.tp} right of {self.pred} tagged, {self.gold} gold)"


def load_news(root: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(item, gold) pairs of a labelled news folder (``items.json``, ``gold.jsonl``)."""
    items = {str(i["id"]): i for i in json.loads((root / "items.json").read_text("utf-8"))}
    out = []
    for line in (root / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            g = json.loads(line)
            out.append((items[str(g["id"])], g))
    return out


def news_text(item: dict[str, Any]) -> str:
    """What ``briefing tag --jsonl`` is given for a news item: its title, then its text."""
    return f"{item['title']}\n\n{item.get('text') or ''}"


def score_news(
    tagger: Tagger, pairs: list[tuple[dict[str, Any], dict[str, Any]]]
) -> dict[str, SetScore]:
    kb = tagger.kb
    out = {k: SetScore() for k in ("actors", "attributed", "countries", "sectors", "malware")}
    for item, gold in pairs:
        ents = tagger.tag(news_text(item))
        iid = f"{item['id']} {item['title'][:60]!r}"
        # actors: compare canonical names; a gold name the KB does not know stays itself
        pred_names: dict[str, set[str]] = {}
        for a in ents.actors:
            keys = {alias_key(x) for x in (a.name, *a.aliases, *a.mentions)}
            pred_names[a.name] = keys
        gold_actors: set[str] = set()
        for name in gold.get("actors", []):
            known = kb.lookup(name)
            key = alias_key(name)
            match = next((p for p, keys in pred_names.items() if key in keys), None)
            if match is None and known is not None:
                match = next((p for p in pred_names if p == known.name), None)
            gold_actors.add(match or (known.name if known else name))
        out["actors"].add(iid, set(pred_names), gold_actors)
        attributed = {c.code for c in ents.countries if c.role == "attributed"}
        attributed |= {a.country_code for a in ents.actors if a.country_code}
        out["attributed"].add(iid, attributed, set(gold.get("attributed", [])))
        places = {c.code for c in ents.countries if c.role != "attributed"}
        out["countries"].add(iid, places, set(gold.get("countries", [])))
        out["sectors"].add(iid, {s.name for s in ents.sectors}, set(gold.get("sectors", [])))
        out["malware"].add(iid, {m.name for m in ents.malware}, set())
    return out


def cross_validate(tagger: Tagger, root: Path) -> dict[str, SetScore]:
    """The tagger's news figures on each block of ``root`` with the decider fitted (by
    ``benchmarks.train_tagger``, its choices included) on the other blocks, pooled: what
    predicts days nobody has seen, where figures on the data the weights came from do not."""
    from benchmarks.train_tagger import blocks, train

    pairs = load_news(root)
    base = Tagger(tagger.kb, _misp_sectors(), decider=False)
    annoctr = DEFAULT if (DEFAULT / "train" / "gold.jsonl").is_file() else None
    total = {k: SetScore() for k in ("actors", "attributed", "countries", "sectors", "malware")}
    try:
        for held, part in blocks(pairs).items():
            rest = [p for p in pairs if str(p[0]["first_seen"]) != held]
            tagger.models, _info = train(base, rest, annoctr)
            for kind, sc in score_news(tagger, part).items():
                t = total[kind]
                t.tp, t.pred, t.gold = t.tp + sc.tp, t.pred + sc.pred, t.gold + sc.gold
                t.fp += sc.fp
                t.fn += sc.fn
    finally:
        tagger.models = None
    return total


def _table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def annoctr_rows(scores: list[DocScore]) -> list[tuple[str, str]]:
    def tot(attr: str) -> int:
        return sum(int(getattr(s, attr)) for s in scores)

    def frac(num: str, den: str, extra: str = "") -> str:
        n, d = tot(num), tot(den)
        return f"{_ratio(n, d)}  ({n}/{d}{extra})"

    return [
        ("documents", str(len(scores))),
        ("actor recall", frac("actor_found", "actor_gold")),
        ("actor precision", frac("actor_tp", "actor_pred")),
        ("location recall", frac("loc_found", "loc_gold", f"; mappable {tot('loc_mappable')}")),
        ("location recall (mappable)", frac("loc_found_mappable", "loc_mappable")),
        ("sector recall", frac("sec_found", "sec_gold", f"; mappable {tot('sec_mappable')}")),
        ("sector recall (mappable)", frac("sec_found_mappable", "sec_mappable")),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.tag_eval", description=__doc__.split("\n")[0]
    )
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="AnnoCTR folder")
    ap.add_argument(
        "--news", type=Path, default=None, help="labelled news folder (items.json, gold.jsonl)"
    )
    ap.add_argument(
        "--cv",
        type=Path,
        nargs="?",
        const=CORPUS / "news-train",
        default=None,
        help="labelled news with blocks (default ../shared/corpus/news-train): the tagger's "
        "figures cross-validated by block, the decider refitted without the block it scores",
    )
    ap.add_argument("--verbose", "-v", action="store_true", help="list the errors")
    ap.add_argument("--seconds", type=float, default=3.0, help="throughput measuring time")
    ap.add_argument("--worst", type=int, default=12, help="how many weak documents to list")
    args = ap.parse_args(argv)
    if not args.path.is_dir():
        print(f"error: {args.path} is not a folder", file=sys.stderr)
        return 2
    docs = load_docs(args.path)
    if not docs:
        print(f"error: no gold.jsonl under {args.path}", file=sys.stderr)
        return 2
    if args.news is not None and not (args.news / "gold.jsonl").is_file():
        print(f"error: no gold.jsonl under {args.news}", file=sys.stderr)
        return 2

    reset_tagger()
    t0 = time.process_time()
    tagger = get_tagger()
    load_s = time.process_time() - t0
    # Gold strings are mapped to sectors and places by the matcher alone: a bare
    # "airline companies" has no context for the decider to accept it by.
    mapper = Tagger(tagger.kb, _misp_sectors(), decider=False)

    scores = [score_doc(mapper, n, t, g, tagger.tag(t)) for n, t, g in docs]
    for split in SPLITS:
        part = [s for s in scores if s.doc.startswith(split + "/")]
        if not part:
            continue
        what = "tune on this" if split == "train" else "report this"
        print(f"\nAnnoCTR {split} ({what})")
        _table(annoctr_rows(part))
        if args.verbose:
            _worst(part, args.worst)

    if args.news is not None:
        news = score_news(tagger, load_news(args.news))
        print(f"\nnews ({args.news})")
        _table(
            [(k, v.row()) for k, v in news.items() if k != "malware"]
            + [("malware (no gold)", f"{news['malware'].pred} tagged")]
        )
        if args.verbose:
            for kind, sc in news.items():
                if kind == "malware":
                    continue
                for line in sc.fp:
                    print(f"  {kind} false+  {line}")
                for line in sc.fn:
                    print(f"  {kind} missed  {line}")

    if args.cv is not None:
        cv = cross_validate(tagger, args.cv)
        print(f"\nnews, cross-validated by block ({args.cv})")
        _table([(k, v.row()) for k, v in cv.items() if k != "malware"])
        if args.verbose:
            for kind, sc in cv.items():
                for line in sc.fp if kind != "malware" else ():
                    print(f"  {kind} false+  {line}")
                for line in sc.fn if kind != "malware" else ():
                    print(f"  {kind} missed  {line}")

    total_bytes = sum(len(t.encode("utf-8")) for _, t, _ in docs)
    rounds = 0
    t0 = time.process_time()
    while True:
        for _, t, _ in docs:
            tagger.tag(t)
        rounds += 1
        if time.process_time() - t0 >= args.seconds:
            break
    elapsed = time.process_time() - t0
    mbps = total_bytes * rounds / elapsed / 1e6
    print()
    _table(
        [
            ("throughput", f"{mbps:.2f} MB/s CPU ({total_bytes / 1e6:.2f} MB x {rounds} rounds)"),
            ("KB load", f"{load_s:.3f} s CPU"),
        ]
    )
    return 0


def _worst(scores: list[DocScore], n: int) -> None:
    print("\nweakest documents:")
    for s in sorted(scores, key=lambda s: (-s.errors, s.doc))[:n]:
        if not s.errors:
            break
        print(f"\n{s.doc}  (errors {s.errors})")
        if s.actor_missed:
            print(f"  actors missed: {', '.join(s.actor_missed)}")
        if s.actor_fp:
            print(f"  actors false+: {', '.join(s.actor_fp)}")
        if s.loc_missed:
            print(f"  locations missed: {', '.join(s.loc_missed)}")
        if s.sec_missed:
            print(f"  sectors missed: {', '.join(s.sec_missed)}")


if __name__ == "__main__":
    raise SystemExit(main())
