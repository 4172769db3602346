"""Score the tagger on AnnoCTR-style gold data: ``python -m benchmarks.tag_eval [PATH]``.

In: a folder with ``train/`` and/or ``dev/`` splits, each holding ``gold.jsonl`` (one object a
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
* throughput: all texts tagged repeatedly for about 3 s on one core, KB load excluded.
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
from briefing.intel.tagger import Tagger, get_tagger, reset_tagger
from briefing.models import Entities

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "annoctr"


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
    loc_missed: list[str] = field(default_factory=list)
    sec_gold: int = 0
    sec_found: int = 0
    sec_mappable: int = 0
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
    for split in ("train", "dev"):
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
        if codes or regions:
            sc.loc_mappable += 1
        if codes & out_codes or regions & out_regions or s in out_mentions:
            sc.loc_found += 1
        else:
            sc.loc_missed.append(s)
    out_sectors = {x.name for x in ents.sectors}
    out_sec_mentions = {m.lower() for x in ents.sectors for m in x.mentions}
    for raw in gold.get("sectors", {}):
        s = _clean_gold(str(raw))
        sc.sec_gold += 1
        g = tagger.tag(s)
        names = {x.name for x in g.sectors}
        if names:
            sc.sec_mappable += 1
        if names & out_sectors or s.lower() in out_sec_mentions:
            sc.sec_found += 1
        else:
            sc.sec_missed.append(s)
    return sc


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.tag_eval", description=__doc__.split("\n")[0]
    )
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="AnnoCTR folder")
    ap.add_argument("--verbose", "-v", action="store_true", help="list the weakest documents")
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

    reset_tagger()
    t0 = time.perf_counter()
    tagger = get_tagger()
    load_s = time.perf_counter() - t0

    scores = [score_doc(tagger, n, t, g, tagger.tag(t)) for n, t, g in docs]

    total_bytes = sum(len(t.encode("utf-8")) for _, t, _ in docs)
    rounds = 0
    t0 = time.perf_counter()
    while True:
        for _, t, _ in docs:
            tagger.tag(t)
        rounds += 1
        if time.perf_counter() - t0 >= args.seconds:
            break
    elapsed = time.perf_counter() - t0
    mbps = total_bytes * rounds / elapsed / 1e6

    def tot(attr: str) -> int:
        return sum(int(getattr(s, attr)) for s in scores)

    def frac(num: str, den: str, extra: str = "") -> str:
        n, d = tot(num), tot(den)
        return f"{_ratio(n, d)}  ({n}/{d}{extra})"

    rows = [
        ("documents", str(len(docs))),
        ("actor recall", frac("actor_found", "actor_gold")),
        ("actor precision", frac("actor_tp", "actor_pred")),
        ("location recall", frac("loc_found", "loc_gold", f"; mappable {tot('loc_mappable')}")),
        ("location recall (mappable)", _ratio(tot("loc_found"), tot("loc_mappable"))),
        ("sector recall", frac("sec_found", "sec_gold", f"; mappable {tot('sec_mappable')}")),
        ("sector recall (mappable)", _ratio(tot("sec_found"), tot("sec_mappable"))),
        ("throughput", f"{mbps:.2f} MB/s  ({total_bytes / 1e6:.2f} MB x {rounds} rounds)"),
        ("KB load", f"{load_s:.3f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if args.verbose:
        print("\nweakest documents:")
        for s in sorted(scores, key=lambda s: (-s.errors, s.doc))[: args.worst]:
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
