"""Train the tagger's decider: ``python -m benchmarks.train_tagger [--write]``.

In: the labelled news of ``../shared/corpus/news-train`` (``--train``: five 2-day blocks,
``items.json`` + ``gold.jsonl``) and AnnoCTR ``train/`` (``--annoctr``), both optional
sources of examples. Out: the weights, printed, and with ``--write`` saved to
``briefing/intel/data/decider.json``; ``python -m benchmarks.tag_eval --cv`` then prints the
tagger's figures cross-validated by block, and on the development sets.

Labels: every mention of a sector the matcher finds (before the decider) is an example. In
news it is positive when its sector is among the item's gold victim sectors (the guide: the
sectors the victims or targets belong to). In AnnoCTR it is positive when the annotators
marked that surface form as a sector mention of the document (they mark the sectors of the
organisations a report is about). Deciding mention by mention on the words around it, not on
document counts, is what carries over from long reports to teasers.

Fitting: L2-regularised logistic regression by Newton's method from zero weights (a fixed
number of steps, a 10 x 10 system solved by elimination), in plain Python: the same data give
the same weights, byte for byte, in well under a second. The sources, the L2 strength and the
threshold are chosen by cross-validation over news-train's blocks (each block left out in
turn, so that one event never sits on both sides): the best F0.5 of the pooled held-out
items' sectors. The development sets (``../shared/corpus/news``, AnnoCTR ``dev/``) choose nothing.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.tag_eval import CORPUS, DEFAULT, _clean_gold, load_docs, load_news, news_text
from briefing.intel.decide import COUNTRY_FEATURES, SECTOR_FEATURES, Model
from briefing.intel.kb import load_kb
from briefing.intel.tagger import Tagger, _misp_sectors

OUT = Path(__file__).resolve().parent.parent / "briefing" / "intel" / "data" / "decider.json"
NEWS_TRAIN = CORPUS / "news-train"
STEPS = 12
L2_CHOICES = (0.1, 1.0, 3.0, 10.0)
THRESHOLDS = tuple(i / 20 for i in range(4, 17))
# An AnnoCTR mention weighs this much against a news mention when both are used: reports are
# long and many, teasers are what the briefing tags.
ANNOCTR_WEIGHT = 0.5

Example = tuple[list[float], int, float]  # features, label, weight
# A news item's candidates for one sector: (label, its mentions' features). The item has the
# sector when the decider accepts one mention, which is what cross-validation scores.
Group = tuple[int, list[list[float]]]


def annoctr_examples(tagger: Tagger, root: Path, split: str = "train") -> list[Example]:
    out: list[Example] = []
    for name, text, gold in load_docs(root):
        if not name.startswith(split + "/"):
            continue
        wanted = {_clean_gold(str(raw)).lower() for raw in gold.get("sectors", {})}
        for _sector, mentions in sorted(tagger.sector_candidates(text).items()):
            for surface, feats in mentions:
                low = surface.lower()
                out.append((feats, int(any(low in w for w in wanted)), ANNOCTR_WEIGHT))
    return out


def news_groups(
    tagger: Tagger, pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> tuple[list[Group], int]:
    """Each item's sector candidates, and how many gold sectors the items have in all
    (those with no candidate count as misses whatever the weights)."""
    out: list[Group] = []
    gold_total = 0
    for item, gold in pairs:
        wanted = set(gold.get("sectors", []))
        gold_total += len(wanted)
        for sector, mentions in sorted(tagger.sector_candidates(news_text(item)).items()):
            out.append((int(sector in wanted), [feats for _surface, feats in mentions]))
    return out, gold_total


def country_groups(
    tagger: Tagger, pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> tuple[list[Group], int]:
    """Each item's country candidates (one group each: a country is decided once per text),
    and how many gold countries the items have in all."""
    out: list[Group] = []
    gold_total = 0
    for item, gold in pairs:
        wanted = set(gold.get("countries", []))
        gold_total += len(wanted)
        for code, feats in tagger.country_candidates(news_text(item)):
            out.append((int(code in wanted), [feats]))
    return out, gold_total


def examples_of(groups: Sequence[Group]) -> list[Example]:
    return [(x, y, 1.0) for y, xs in groups for x in xs]


def blocks(pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, list[Any]]:
    """News-train's items by block (the block's last day, ``first_seen``)."""
    out: dict[str, list[Any]] = {}
    for item, gold in pairs:
        out.setdefault(str(item["first_seen"]), []).append((item, gold))
    return dict(sorted(out.items()))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """``a x = b`` by Gaussian elimination with partial pivoting (a is small and positive
    definite: the Hessian plus the L2 term)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def fit(data: Sequence[Example], l2: float) -> tuple[list[float], float]:
    """Weights and bias minimising the weighted log-loss + ``l2/2 |w|^2`` (bias free)."""
    k = len(data[0][0])
    theta = [0.0] * (k + 1)  # weights, then bias
    rows = [([*x, 1.0], y, wt) for x, y, wt in data]
    for _ in range(STEPS):
        grad = [l2 * t for t in theta[:k]] + [0.0]
        hess = [[0.0] * (k + 1) for _ in range(k + 1)]
        for i in range(k):
            hess[i][i] = l2
        hess[k][k] = 1e-6
        for x, y, wt in rows:
            z = sum(t * v for t, v in zip(theta, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = wt * (p - y)
            h = wt * p * (1.0 - p)
            for i, xi in enumerate(x):
                if xi:
                    grad[i] += g * xi
                    hx = h * xi
                    for j, xj in enumerate(x):
                        if xj:
                            hess[i][j] += hx * xj
        step = _solve(hess, grad)
        theta = [t - s for t, s in zip(theta, step, strict=True)]
    return theta[:k], theta[k]


def model_of(w: Sequence[float], b: float, th: float) -> Model:
    features = SECTOR_FEATURES if len(w) == len(SECTOR_FEATURES) else COUNTRY_FEATURES
    return Model(features, tuple(round(x, 4) for x in w), round(b, 4), th)


def counts(model: Model, groups: Sequence[Group], gold: int) -> tuple[int, int, int]:
    """(right, accepted, gold) item sectors."""
    acc = [y for y, xs in groups if any(model.accepts(x) for x in xs)]
    return sum(acc), len(acc), gold


def fbeta(tp: int, pred: int, gold: int, beta: float) -> float:
    """F-beta of item-level decisions."""
    p = tp / pred if pred else 0.0
    r = tp / gold if gold else 0.0
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


# Sectors weigh precision more (F0.5: a wrong sector sends a story to the wrong reader; a
# missing one leaves it where the reader still finds it by actor or vendor); countries weigh
# both alike (F1: the targets are the same for both).
BETA = {"sector": 0.5, "country": 1.0}


def choose(
    folds: dict[str, tuple[list[Group], int]], extra: list[Example], beta: float
) -> tuple[float, float, float, bool]:
    """(F-beta, l2, threshold, with AnnoCTR) best on the pooled left-out blocks' items."""
    best: tuple[float, float, float, bool] | None = None
    for use_extra in (False, True) if extra else (False,):
        for l2 in L2_CHOICES:
            fitted = []
            for held in folds:
                data = [e for b, (g, _n) in folds.items() if b != held for e in examples_of(g)]
                fitted.append((fit(data + (extra if use_extra else []), l2), folds[held]))
            for th in THRESHOLDS:
                tot = [0, 0, 0]
                for (w, b), (groups, gold) in fitted:
                    for i, v in enumerate(counts(model_of(w, b, th), groups, gold)):
                        tot[i] += v
                f = fbeta(tot[0], tot[1], tot[2], beta)
                if best is None or f > best[0] + 1e-9:
                    best = (f, l2, th, use_extra)
    assert best is not None
    return best


def train(
    tagger: Tagger,
    pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]],
    annoctr: Path | None,
) -> tuple[dict[str, Model], dict[str, dict[str, Any]]]:
    """The decider's models fitted on ``pairs`` (the sector model with AnnoCTR train too
    when cross-validation over the blocks of ``pairs`` says it helps), with what was
    chosen for each."""
    models: dict[str, Model] = {}
    infos: dict[str, dict[str, Any]] = {}
    by_block = blocks(pairs)
    for kind, grouper in (("sector", news_groups), ("country", country_groups)):
        folds = {b: grouper(tagger, ps) for b, ps in by_block.items()}
        extra = annoctr_examples(tagger, annoctr) if annoctr and kind == "sector" else []
        f, l2, th, use_extra = choose(folds, extra, BETA[kind])
        data = [e for g, _n in folds.values() for e in examples_of(g)]
        data += extra if use_extra else []
        w, b = fit(data, l2)
        models[kind] = model_of(w, b, th)
        infos[kind] = {
            "l2": l2,
            "threshold": th,
            "cv_fbeta": round(f, 4),
            "beta": BETA[kind],
            "with_annoctr": use_extra,
            "news_examples": len(data) - (len(extra) if use_extra else 0),
            "annoctr_examples": len(extra) if use_extra else 0,
        }
    return models, infos


def default_tagger() -> Tagger:
    """The tagger whose candidates the decider is trained on (no decider)."""
    return Tagger(load_kb(), _misp_sectors(), decider=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.train_tagger")
    ap.add_argument("--train", type=Path, default=NEWS_TRAIN, help="labelled news to fit on")
    ap.add_argument("--annoctr", type=Path, default=DEFAULT, help="AnnoCTR folder (train/)")
    ap.add_argument("--write", action="store_true", help=f"save the weights to {OUT}")
    args = ap.parse_args(argv)
    tagger = default_tagger()
    pairs = load_news(args.train)
    annoctr = args.annoctr if (args.annoctr / "train" / "gold.jsonl").is_file() else None
    models, infos = train(tagger, pairs, annoctr)
    out: dict[str, Any] = {
        "comment": "Written by `python -m benchmarks.train_tagger --write` (news-train, "
        "AnnoCTR train when block CV says it helps; l2 and threshold chosen by CV over "
        "news-train's blocks). Do not edit by hand.",
        "version": 2,
        "models": {},
    }
    for kind, model in models.items():
        info = infos[kind]
        print(
            f"{kind}: {info['news_examples']} news examples, {info['annoctr_examples']} "
            f"AnnoCTR; chosen by CV over news-train's blocks: l2 {info['l2']}, threshold "
            f"{info['threshold']:.2f}, item F{info['beta']:g} {info['cv_fbeta']:.3f}"
        )
        for name, wi in zip(model.features, model.weights, strict=True):
            print(f"  {name:<14} {wi:+.4f}")
        print(f"  {'bias':<14} {model.bias:+.4f}")
        out["models"][kind] = {
            "features": list(model.features),
            "weights": list(model.weights),
            "bias": model.bias,
            **info,
        }
    if args.write:
        OUT.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
