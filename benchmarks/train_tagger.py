"""Train the tagger's decider: ``python -m benchmarks.train_tagger [ANNOCTR] [--write]``.

In: AnnoCTR (``train/`` to learn from, default ``../shared/corpus/annoctr``) and the
development sets that choose the threshold and regularisation: AnnoCTR ``dev/`` and the
labelled news (``--news``, default ``../shared/corpus/news``; a news mention is positive
when its sector is among the item's gold victim sectors). Out: the weights, printed, and with
``--write`` saved to ``briefing/intel/data/decider.json``; then ``python -m
benchmarks.tag_eval --news ...`` says whether they beat what was there.

Labels: every mention of a sector the matcher finds (before the decider) is an example; it
is positive when AnnoCTR's annotators marked that surface form as a sector mention of the
document. They mark the sectors of the organisations a report is about (victims and
targets), which is what the briefing means by a sector. Deciding mention by mention on the
words around it, not on document counts, is what carries over from long reports to teasers.

Fitting: L2-regularised logistic regression by full-batch gradient descent from zero weights,
a fixed number of steps, in plain Python: the same data give the same weights, byte for byte.
The threshold is the one with the best F0.5 on dev (precision weighs more than recall: a wrong
sector sends a story to the wrong reader).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.tag_eval import CORPUS, DEFAULT, _clean_gold, load_docs, load_news, news_text
from briefing.intel.decide import SECTOR_FEATURES, Model, sigmoid
from briefing.intel.kb import load_kb
from briefing.intel.tagger import Tagger, _misp_sectors

OUT = Path(__file__).resolve().parent.parent / "briefing" / "intel" / "data" / "decider.json"
STEPS = 3000
RATE = 0.5
L2_CHOICES = (0.0, 0.001, 0.01, 0.03, 0.1)

Example = tuple[list[float], int]


def examples(tagger: Tagger, root: Path, split: str) -> list[Example]:
    out: list[Example] = []
    for name, text, gold in load_docs(root):
        if not name.startswith(split + "/"):
            continue
        wanted = {_clean_gold(str(raw)).lower() for raw in gold.get("sectors", {})}
        for _sector, mentions in sorted(tagger.sector_candidates(text).items()):
            for surface, feats in mentions:
                low = surface.lower()
                out.append((feats, int(any(low in w for w in wanted))))
    return out


def news_examples(tagger: Tagger, root: Path) -> list[Example]:
    out: list[Example] = []
    for item, gold in load_news(root):
        wanted = set(gold.get("sectors", []))
        for sector, mentions in sorted(tagger.sector_candidates(news_text(item)).items()):
            out.extend((feats, int(sector in wanted)) for _surface, feats in mentions)
    return out


def fit(data: list[Example], l2: float) -> tuple[list[float], float]:
    k = len(SECTOR_FEATURES)
    w = [0.0] * k
    b = 0.0
    n = len(data)
    for _ in range(STEPS):
        gw = [0.0] * k
        gb = 0.0
        for x, y in data:
            err = sigmoid(b + sum(wi * xi for wi, xi in zip(w, x, strict=True))) - y
            for i in range(k):
                gw[i] += err * x[i]
            gb += err
        w = [wi - RATE * (g / n + l2 * wi) for wi, g in zip(w, gw, strict=True)]
        b -= RATE * gb / n
    return w, b


def scores(w: list[float], b: float, data: list[Example], th: float) -> tuple[float, float, float]:
    model = Model(SECTOR_FEATURES, tuple(w), b, th)
    tp = sum(1 for x, y in data if y and model.accepts(x))
    pred = sum(1 for x, _ in data if model.accepts(x))
    gold = sum(y for _, y in data)
    p = tp / pred if pred else 1.0
    r = tp / gold if gold else 1.0
    f = 1.25 * p * r / (0.25 * p + r) if p + r else 0.0
    return p, r, f


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.train_tagger")
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="AnnoCTR folder")
    ap.add_argument(
        "--news", type=Path, default=CORPUS / "news", help="labelled news folder (choosing)"
    )
    ap.add_argument("--write", action="store_true", help=f"save the weights to {OUT}")
    args = ap.parse_args(argv)
    if not (args.path / "train" / "gold.jsonl").is_file():
        print(f"error: no train/gold.jsonl under {args.path}", file=sys.stderr)
        return 2
    tagger = Tagger(load_kb(), _misp_sectors(), decider=False)
    train = examples(tagger, args.path, "train")
    dev = examples(tagger, args.path, "dev")
    if (args.news / "gold.jsonl").is_file():
        dev += news_examples(tagger, args.news)
    print(
        f"sector mentions: train {len(train)} ({sum(y for _, y in train)} victims), "
        f"dev {len(dev)} ({sum(y for _, y in dev)} victims)"
    )
    best: tuple[float, float, float, list[float], float] | None = None
    for l2 in L2_CHOICES:
        w, b = fit(train, l2)
        for th in [i / 20 for i in range(4, 17)]:
            _p, _r, f = scores(w, b, dev, th)
            if best is None or f > best[0] + 1e-9:
                best = (f, l2, th, w, b)
    assert best is not None
    f, l2, th, w, b = best
    tp, tr, _ = scores(w, b, train, th)
    dp, dr, _ = scores(w, b, dev, th)
    print(f"chosen on dev (AnnoCTR dev + news): l2 {l2}, threshold {th:.2f}")
    print(f"train: precision {tp:.3f} recall {tr:.3f}")
    print(f"dev:   precision {dp:.3f} recall {dr:.3f}  (F0.5 {f:.3f})")
    for name, wi in zip(SECTOR_FEATURES, w, strict=True):
        print(f"  {name:<14} {wi:+.3f}")
    print(f"  {'bias':<14} {b:+.3f}")
    model = {
        "comment": "Written by `python -m benchmarks.train_tagger --write` (AnnoCTR train; "
        "threshold and l2 chosen on AnnoCTR dev + labelled news). Do not edit by hand.",
        "models": {
            "sector": {
                "features": list(SECTOR_FEATURES),
                "weights": [round(x, 4) for x in w],
                "bias": round(b, 4),
                "threshold": th,
                "l2": l2,
                "trained_on": f"AnnoCTR train, {len(train)} candidates",
            }
        },
    }
    if args.write:
        OUT.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
