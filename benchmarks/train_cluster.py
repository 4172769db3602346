"""Fit the cluster stage's pair model: ``python -m benchmarks.train_cluster [--write]``.

In: labelled news (``--train``, default ``../shared/corpus/news-train``: event slugs per item,
five blocks of two days). Every candidate pair the cluster stage's blocking yields in a day's
window (``cluster_eval.windows``, the items as one feed per outlet gives them) that no hard
rule decides (a conflict, a catalogue entry, one headline, a digest, a republished text) is an
example, positive when both items have one event slug. Out: cross-validated figures by block
(fit on four blocks, cluster the fifth with the model, pairs precision and recall), the chosen
regularisation and threshold, and with ``--write`` the weights fitted on every block in
``briefing/stories/pairs.json``. ``python -m benchmarks.cluster_eval --news ../shared/corpus/news``
then checks them on the development set.

Fitting: L2-regularised logistic regression by Newton's method from zero weights, a fixed
number of steps, in plain Python: the same data give the same weights, byte for byte. The
threshold and L2 are the ones with the best cross-validated F1 among those whose precision is
at least ``PRECISION`` (over-merging hides an event; a missed merge shows it twice).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.cluster_eval import Item, Score, _entities, make_docs, read_news, windows
from briefing.models import Entities
from briefing.stories.cluster import (
    BACKGROUND_CHARS,
    FEATURES,
    MODEL_PATH,
    PairModel,
    cluster,
    evidence,
    features,
    rule,
)

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT.parent / "shared" / "corpus" / "news-train"
STEPS = 25
L2_CHOICES = (0.01, 0.1, 1.0)
THRESHOLDS = tuple(round(0.2 + 0.05 * k, 2) for k in range(14))
PRECISION = 0.90

Example = tuple[list[float], int]


def block_of(item: Item) -> str:
    return item.day[:7]  # the blocks are two days of one month, months apart


def examples(items: Sequence[Item], tags: dict[str, Entities]) -> list[Example]:
    """The undecided candidate pairs of every day's window, each pair once."""
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for _day, chosen, back in windows(items):
        docs = make_docs(chosen, "outlet", tags)
        background = [f"{item.title} {item.text[:BACKGROUND_CHARS]}" for item in back]
        for (i, j), pair in evidence(docs, background).items():
            key = (chosen[i].key, chosen[j].key)
            if key in seen or rule(pair) is not None:
                continue
            seen.add(key)
            out.append((features(pair), int(chosen[i].event == chosen[j].event)))
    return out


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the Hessian is positive definite)."""
    n = len(vector)
    a = [[*row, v] for row, v in zip(matrix, vector, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for row in range(col + 1, n):
            factor = a[row][col] / a[col][col]
            for k in range(col, n + 1):
                a[row][k] -= factor * a[col][k]
    out = [0.0] * n
    for row in range(n - 1, -1, -1):
        out[row] = (a[row][n] - sum(a[row][k] * out[k] for k in range(row + 1, n))) / a[row][row]
    return out


def fit(data: Sequence[Example], l2: float) -> tuple[list[float], float]:
    """Weights and bias (the bias is the last coordinate, not regularised)."""
    d = len(FEATURES) + 1
    w = [0.0] * d
    for _ in range(STEPS):
        grad = [0.0] * d
        hess = [[0.0] * d for _ in range(d)]
        for x, y in data:
            row = [*x, 1.0]
            z = max(-60.0, min(60.0, sum(wi * xi for wi, xi in zip(w, row, strict=True))))
            p = 1.0 / (1.0 + math.exp(-z))
            g, h = p - y, p * (1.0 - p)
            for a in range(d):
                grad[a] += g * row[a]
                ha = h * row[a]
                hrow = hess[a]
                for b in range(a, d):
                    hrow[b] += ha * row[b]
        for a in range(d):
            for b in range(a):
                hess[a][b] = hess[b][a]
        for a in range(d - 1):
            grad[a] += l2 * w[a]
            hess[a][a] += l2
        hess[d - 1][d - 1] += 1e-9
        step = _solve(hess, grad)
        w = [wi - si for wi, si in zip(w, step, strict=True)]
    return w[:-1], w[-1]


def score_block(
    items: Sequence[Item], tags: dict[str, Entities], models: Sequence[PairModel]
) -> list[Score]:
    """Pairs precision and recall of ``cluster`` with each model over the block's windows."""
    scores = [Score() for _ in models]
    for _day, chosen, back in windows(items):
        docs = make_docs(chosen, "outlet", tags)
        background = [f"{item.title} {item.text[:BACKGROUND_CHARS]}" for item in back]
        for model, score in zip(models, scores, strict=True):
            groups = cluster(docs, background, model)
            story = {m: n for n, group in enumerate(groups) for m in group}
            for a in range(len(chosen)):
                for b in range(a + 1, len(chosen)):
                    score.add(story[a] == story[b], chosen[a].event == chosen[b].event)
    return scores


def _f1(score: Score) -> float:
    p, r = score.precision, score.recall
    return 2 * p * r / (p + r) if p + r else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_cluster")
    parser.add_argument("--train", type=Path, default=TRAIN)
    parser.add_argument("--write", action="store_true", help=f"save the weights to {MODEL_PATH}")
    args = parser.parse_args(argv)
    items = read_news(args.train)
    tags = {item.key: _entities(item) for item in items}
    blocks = sorted({block_of(item) for item in items})
    by_block = {b: [item for item in items if block_of(item) == b] for b in blocks}
    data = {b: examples(by_block[b], tags) for b in blocks}
    total = sum(len(d) for d in data.values())
    positives = sum(y for d in data.values() for _, y in d)
    print(f"{total} undecided candidate pairs, {positives} same-event, blocks {blocks}")
    pooled: dict[tuple[float, float], Score] = {}
    for held in blocks:
        rest = [example for b in blocks if b != held for example in data[b]]
        models: list[PairModel] = []
        keys: list[tuple[float, float]] = []
        for l2 in L2_CHOICES:
            w, bias = fit(rest, l2)
            for th in THRESHOLDS:
                models.append(PairModel(tuple(w), bias, th))
                keys.append((l2, th))
        for key, score in zip(keys, score_block(by_block[held], tags, models), strict=True):
            into = pooled.setdefault(key, Score())
            into.tp, into.fp, into.fn = into.tp + score.tp, into.fp + score.fp, into.fn + score.fn
    for (l2, th), score in sorted(pooled.items()):
        print(f"  l2 {l2:<5} threshold {th:.2f}  {score.row('cross-validated')}")
    good = [key for key, score in pooled.items() if score.precision >= PRECISION] or list(pooled)
    l2, th = max(good, key=lambda key: (_f1(pooled[key]), -key[0], key[1]))
    print(f"chosen: l2 {l2}, threshold {th}: {pooled[(l2, th)].row('cross-validated')}")
    w, bias = fit([example for b in blocks for example in data[b]], l2)
    for name, value in zip(FEATURES, w, strict=True):
        print(f"  {name:<24} {value:+.3f}")
    print(f"  {'bias':<24} {bias:+.3f}")
    if args.write:
        MODEL_PATH.write_text(
            json.dumps(
                {
                    "features": list(FEATURES),
                    "weights": [round(v, 6) for v in w],
                    "bias": round(bias, 6),
                    "threshold": th,
                    "l2": l2,
                    "trained_on": "news-train, every block; python -m benchmarks.train_cluster",
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"wrote {MODEL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
