"""Score the victim finder: ``python -m benchmarks.victim_eval [--verbose]``.

In: the labelled news (``../shared/corpus/news-train`` and ``../shared/corpus/news``, dev),
each item's title and text and its gold ``victim``. Out: per set, precision (of the names
found, how many are the gold victim), recall (of the gold victims, how many were found) and
F1 of ``victim_of`` with the kind the classifier gives; a name matches when one contains the
other after case folding ("Stryker" and "Medtech giant Stryker"). The finder has no learned
part: train and dev are two checks of one rule set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.train_kind import CORPUS, _host, load
from briefing.intel.kind import classify
from briefing.intel.victim import victim_of


def same(found: str, gold: str) -> bool:
    a, b = found.casefold(), gold.casefold()
    return a in b or b in a


def score(root: Path, verbose: bool) -> tuple[float, float, float]:
    tp = found = wanted = 0
    for item, gold in load(root):
        title, text = str(item["title"]), str(item.get("text") or "")
        guess = victim_of(title, text, classify(title, text, _host(item.get("link"))))
        truth = gold.get("victim")
        found += guess is not None
        wanted += truth is not None
        hit = guess is not None and truth is not None and same(guess, str(truth))
        tp += hit
        if verbose and not hit and (guess or truth):
            print(f"  gold {truth!s:<24} found {guess!s:<24} | {item['title'][:90]}")
    p = tp / found if found else 1.0
    r = tp / wanted if wanted else 1.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    for name in ("news-train", "news"):
        p, r, f = score(CORPUS / name, args.verbose)
        print(f"{name:<11} precision {p:.2f}  recall {r:.2f}  F1 {f:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
