"""Benchmarks: ``python -m benchmarks [--quick | --tiny] [--out FILE] [--corpus DIR]``.

Each case runs in this one process beside the baseline a user would otherwise write, against a
generated loopback site (``benchmarks._site``) with a configurable latency per request, or
beside a reference loop timed in the same run (``benchmarks.build_bench``):

* poll: N feeds × 20 items; a sequential ``feedparser.parse(url)`` loop vs ``pipeline.poll``.
* extract: the same article pages; a sequential fetch + ``trafilatura.extract`` loop vs
  ``pipeline.extract`` (one worker per core, and one worker for the overhead).
* tag: ``get_tagger().tag`` over generated articles on one core (CPU time), knowledge-base
  load excluded, beside a plain word-counting loop over the same texts.
* incremental: poll + extract twice against unchanged feeds; the second run's time over the
  first's, and the pages it fetched (should be none).
* build: a generated day (feed text only, 70 % single-source stories) -> HTML + PDF + JSON +
  STIX + archive, whole process, with each stage's CPU share and the PDF's seconds a page.
* cluster: ``story_groups`` over a tagged day of 2,000 items.
* stix: the day's STIX bundle and MISP feed.
* scale: poll + extract of 1,000 new items into stores already holding 1k, 10k, 50k articles.
* cli: ``briefing poll`` as a whole process vs the feedparser loop (60 feeds, 200 ms).

Prints a table (every figure with its target) and writes the numbers as JSON to ``--out``.
``--tiny`` is CI's regression alarm: small sizes, and exit status 1 only when a *ratio* (a
figure over a baseline measured in the same run, ``RATIOS``) falls to half its target or
worse; no absolute time ever fails it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._site import Site, article_text, load_corpus
from benchmarks.build_bench import (
    bench_build,
    bench_cluster,
    bench_stix_misp,
    build_child,
    reference_loop,
)

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
TARGETS: dict[str, tuple[str, float]] = {
    "poll_speedup": (">=", 25),
    "poll_vs_ideal": ("<=", 1.5),
    "cli_poll_speedup": (">=", 10),
    "extract_speedup": (">=", 1.5),
    "extract_overhead": ("<=", 1.10),
    "tag_mb_per_s": (">=", 10),
    "incremental_ratio": ("<=", 0.05),
    "incremental_page_fetches": ("<=", 0),
    "incremental_build_second_tagged": ("<=", 0),
    "scale_min_items_per_s": (">=", 2000),
    "scale_flatness": (">=", 0.8),
    "build_seconds": ("<=", 10),
    "build_process_cpu_seconds": ("<=", 10),
    "build_peak_mb": ("<=", 500),
    "pdf_seconds_per_page": ("<=", 0.15),
    "cluster_seconds": ("<=", 5),
    "stix_misp_seconds": ("<=", 0.5),
}
# Ratios to a baseline measured in the same run: what ``--tiny`` (CI) checks, failing only
# below half the target (above twice it for "<="). A ratio's target is its figure's target over
# the baseline as measured on the reference machine (README "Benchmarks"), so a machine N times
# slower moves figure and baseline alike and leaves the ratio where it was. The poll ratios
# measure overlapped waiting and grow with the number of feeds: at CI's sizes they say nothing,
# so CI prints them and does not judge them.
RATIOS: dict[str, tuple[str, float]] = {
    "extract_overhead": ("<=", 1.10),  # one worker over the fetch + trafilatura loop
    # Tagging MB/s over the word-counting loop's MB/s (38 MB/s on the reference machine).
    "tag_ratio": (">=", 10 / 38),
    "scale_flatness": (">=", 0.8),  # items/s into the largest store over the smallest
    # Whole-process build CPU seconds an article over the loop's seconds an article (30 µs).
    "build_ratio": ("<=", 10 / 1000 / 30e-6),
    # PDF seconds a page over a plain page's (0.025 s).
    "pdf_page_ratio": ("<=", 0.15 / 0.025),
    "cluster_ratio": ("<=", 5 / 2000 / 30e-6),  # seconds an item over the loop's (30 µs)
    # STIX + MISP over the day's briefing.json read and written by json (0.07 s).
    "stix_misp_ratio": ("<=", 0.5 / 0.07),
}


@dataclass(frozen=True)
class Sizes:
    poll_feeds: int = 500
    poll_items: int = 20
    latency: float = 0.1
    extract_feeds: int = 50
    tag_seconds: float = 3.0
    incremental_feeds: int = 100
    build_articles: int = 1000
    cluster_items: int = 2000
    scale: tuple[int, ...] = (1_000, 10_000, 50_000)
    scale_batch: int = 1_000


FULL = Sizes()
QUICK = Sizes(
    poll_feeds=200,
    extract_feeds=15,
    tag_seconds=2.0,
    incremental_feeds=10,
    scale=(1_000, 5_000, 20_000),
)
TINY = Sizes(
    poll_feeds=4,
    poll_items=3,
    latency=0.01,
    extract_feeds=2,
    tag_seconds=0.3,
    incremental_feeds=2,
    # The build and clustering at full size: their ratios are per article and per item, and
    # a small day's would be mostly start-up (the alarm compares them with the quick run's).
    scale=(200, 1_000),
    scale_batch=100,
)


def _config(site: Site, **extra: Any) -> Any:
    from briefing.config import Config

    return Config.model_validate(site.config(**extra))


def _timed(func: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# -- cases -----------------------------------------------------------------------------------


def _stage_modules() -> None:
    """Import the stages before any timing, as each baseline imports its library first:
    ``pipeline`` imports a stage's modules when it first runs it (for a fast CLI start), and
    that would put ~0.1 s of imports inside our side of a case."""
    import briefing.ingest.extract
    import briefing.ingest.poll  # noqa: F401


def bench_poll(sizes: Sizes, work: Path) -> dict[str, Any]:
    import feedparser

    from briefing import pipeline

    _stage_modules()

    with Site(sizes.poll_feeds, sizes.poll_items, NOW, latency=sizes.latency, process=True) as site:
        config = _config(site)
        urls = [site.feed_url(i) for i in range(sizes.poll_feeds)]

        def baseline() -> int:
            return sum(len(feedparser.parse(url).entries) for url in urls)

        base_s, base_items = _timed(baseline)
        with warnings.catch_warnings():
            # feedparser leaves its HTTP responses to the garbage collector.
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        # Ours is the best of three polls, each into a fresh store (so each fetches and stores
        # every item): a sub-second figure on a shared machine moves by 40 % between runs
        # (0.73 s, 1.05 s), the 20 s baseline by 1 %. The process's one-time start (imports,
        # TLS context, the parse worker) is what `cli_poll_speedup` measures, whole process.
        polls = [
            _timed(lambda k=k: pipeline.poll(config, work / f"poll-{k}", NOW)) for k in range(3)
        ]
        ours_s, outcomes = min(polls, key=lambda timed: timed[0])
    ours_items = sum(o.items for o in outcomes)
    ideal = math.ceil(sizes.poll_feeds / config.poll.concurrency) * sizes.latency
    _say(
        f"poll: baseline {base_s:.2f} s ({base_items} items), ours {ours_s:.2f} s "
        f"({ours_items} items), ideal {ideal:.2f} s"
    )
    return {
        "poll_speedup": base_s / ours_s,
        "poll_vs_ideal": ours_s / ideal,
        "poll_baseline_seconds": base_s,
        "poll_seconds": ours_s,
        "poll_feeds": sizes.poll_feeds,
        "poll_items": ours_items,
        "poll_baseline_items": base_items,
        "poll_latency_s": sizes.latency,
        "poll_concurrency": config.poll.concurrency,
    }


def bench_extract(sizes: Sizes, work: Path, corpus: list[str] | None) -> dict[str, Any]:
    import trafilatura

    from briefing import pipeline

    _stage_modules()

    # A corpus page is served once: trafilatura's deduplication (on in our stage) would blank
    # the second copy of a page, and its caches would flatter both sides.
    feeds, items = (1, len(corpus)) if corpus else (sizes.extract_feeds, 20)
    with Site(feeds, items, NOW, latency=0.0, corpus=corpus, process=True) as site:
        many, one = _config(site), _config(site, extract={"workers": 1})
        pipeline.poll(many, work / "extract-n", NOW)
        pipeline.poll(one, work / "extract-1", NOW)
        pages = [site.page_url(f, i) for f in range(feeds) for i in range(items)]

        def baseline() -> int:
            chars = 0
            for url in pages:
                with urllib.request.urlopen(url, timeout=30) as response:
                    html = response.read().decode("utf-8", errors="replace")
                chars += len(trafilatura.extract(html, url=url, include_comments=False) or "")
            return chars

        with urllib.request.urlopen(pages[0], timeout=30) as response:  # warm caches
            trafilatura.extract(response.read().decode(), include_comments=False)
        base_s, _chars = _timed(baseline)
        many_s, stats = _timed(lambda: pipeline.extract(many, work / "extract-n", NOW))
        one_s, stats_one = _timed(lambda: pipeline.extract(one, work / "extract-1", NOW))
    _say(
        f"extract {len(pages)} pages: baseline {base_s:.2f} s, ours {many_s:.2f} s "
        f"({stats.full} full), one worker {one_s:.2f} s ({stats_one.full} full)"
    )
    return {
        "extract_speedup": base_s / many_s,
        "extract_overhead": one_s / base_s,
        "extract_pages": len(pages),
        "extract_baseline_seconds": base_s,
        "extract_seconds": many_s,
        "extract_one_worker_seconds": one_s,
        "extract_workers": os.cpu_count() or 1,
        "extract_full": stats.full,
        "extract_source": "corpus" if corpus else "generated",
    }


def bench_tag(sizes: Sizes, corpus_dir: Path | None) -> dict[str, Any]:
    from briefing.intel import get_tagger

    texts: list[str] = []
    if corpus_dir is not None:
        texts = [p.read_text(encoding="utf-8") for p in sorted(corpus_dir.rglob("*.txt"))][:300]
    if not texts:
        texts = [
            "\n\n".join([title, *paras])
            for f in range(10)
            for i in range(20)
            for title, paras in [article_text(f, i)]
        ]
    load_s, tagger = _timed(get_tagger)
    tagger.tag(texts[0])  # warm-up: lazily built tables stay out of the timing
    size = sum(len(t.encode()) for t in texts)
    done = 0
    started = time.process_time()  # CPU time: the neighbours on a shared machine stay out
    while True:
        for text in texts:
            tagger.tag(text)
        done += size
        elapsed = time.process_time() - started
        if elapsed >= sizes.tag_seconds:
            break
    rate = done / elapsed / 1e6
    reference = size / (reference_loop(texts) * len(texts)) / 1e6
    _say(
        f"tag: {done / 1e6:.1f} MB in {elapsed:.2f} s CPU = {rate:.2f} MB/s (KB load "
        f"{load_s:.2f} s; word-counting loop {reference:.1f} MB/s)"
    )
    return {
        "tag_mb_per_s": rate,
        "tag_reference_mb_per_s": reference,
        "tag_ratio": rate / reference,
        "tag_kb_load_seconds": load_s,
        "tag_texts": len(texts),
    }


def bench_incremental(sizes: Sizes, work: Path) -> dict[str, Any]:
    from briefing import pipeline

    _stage_modules()  # imports in the first run would flatter the ratio
    with Site(sizes.incremental_feeds, 20, NOW, latency=sizes.latency, process=True) as site:
        config = _config(site)
        out = work / "incremental"

        def run() -> Any:
            pipeline.poll(config, out, NOW)
            return pipeline.extract(config, out, NOW)

        first_s, first = _timed(run)
        pages_before = site.counts()["page"]
        second_s, second = _timed(run)
        counts = site.counts()
        page_fetches = counts["page"] - pages_before + second.pages_fetched
        not_modified = counts["304"]
    # Two builds of the same day from the unchanged store: the second tags nothing and
    # writes the same briefing.json.
    build_first_s, built = _timed(lambda: pipeline.build(config, out, NOW, timedelta(hours=24)))
    first_json = (built.folder / "briefing.json").read_bytes()
    build_second_s, rebuilt = _timed(lambda: pipeline.build(config, out, NOW, timedelta(hours=24)))
    identical = (rebuilt.folder / "briefing.json").read_bytes() == first_json
    _say(
        f"incremental: first {first_s:.2f} s ({first.pages_fetched} pages), second "
        f"{second_s:.2f} s ({page_fetches} pages, {not_modified} × 304); build "
        f"{build_first_s:.2f} s ({built.tagged} tagged), again {build_second_s:.2f} s "
        f"({rebuilt.tagged} tagged, briefing.json {'identical' if identical else 'DIFFERS'})"
    )
    return {
        "incremental_build_first_seconds": build_first_s,
        "incremental_build_second_seconds": build_second_s,
        "incremental_build_first_tagged": built.tagged,
        "incremental_build_second_tagged": rebuilt.tagged,
        "incremental_build_identical": identical,
        "incremental_ratio": second_s / first_s,
        "incremental_page_fetches": page_fetches,
        "incremental_first_seconds": first_s,
        "incremental_second_seconds": second_s,
        "incremental_feeds": sizes.incremental_feeds,
        "incremental_not_modified": not_modified,
    }


def _fill(store_file: Path, count: int, batch: int) -> None:
    """Put ``count`` old articles (feed text only) into the store, in feed-sized batches."""
    from briefing.config import Config
    from briefing.ingest.extract import extract_pending
    from briefing.models import FeedItem
    from briefing.store import Store

    config = Config.model_validate(
        {"feeds": [{"name": "x", "url": "http://127.0.0.1/"}], "extract": {"fetch_pages": False}}
    )
    old = NOW - timedelta(days=30)
    with Store.open(store_file) as store:
        done = store.count_entries()
        while done < count:
            n = min(batch, count - done)
            feed = f"fill-{done // batch:05d}"
            items = []
            for k in range(n):
                title, paras = article_text(100_000 + done // batch, k, paragraphs=3)
                items.append(
                    FeedItem(
                        feed,
                        f"{feed}-{k}",
                        None,
                        title,
                        paras[0],
                        "\n\n".join(paras),
                        "",
                        old - timedelta(seconds=done + k),
                    )
                )
            store.record_poll(
                feed, f"http://127.0.0.1/{feed}", status="ok", error=None, now=old, items=items
            )
            asyncio.run(extract_pending(config, store, NOW))
            done += n


def bench_scale(sizes: Sizes, work: Path) -> dict[str, Any]:
    from briefing import pipeline
    from briefing.store import Store

    feeds = 10
    per_feed = max(1, sizes.scale_batch // feeds)
    out = work / "scale"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with Site(feeds, per_feed, NOW, full_content=True, spacing=timedelta(minutes=5)) as site:
        config = _config(site, extract={"fetch_pages": False})
        for size in sizes.scale:
            folder = out / str(size)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            # Filled where the poll finds it: outside the output folder (#26 item 8).
            store_file = pipeline.store_path(config, folder)
            started = time.perf_counter()
            _fill(store_file, size, sizes.scale_batch)
            fill_s = time.perf_counter() - started

            def ingest() -> int:
                pipeline.poll(config, folder, NOW)  # noqa: B023 - called at once
                return pipeline.extract(config, folder, NOW).entries  # noqa: B023

            seconds, entries = _timed(ingest)
            with Store.open(store_file) as store:
                total = store.count_entries()
            db_mb = store_file.stat().st_size / 1e6
            rows.append(
                {
                    "store_articles": size,
                    "items": entries,
                    "seconds": seconds,
                    "items_per_s": entries / seconds,
                    "fill_items_per_s": size / fill_s,
                    "entries_after": total,
                    "db_mb": db_mb,
                }
            )
            _say(
                f"scale {size}: {entries} items in {seconds:.2f} s = {entries / seconds:.0f}/s "
                f"(fill {size / fill_s:.0f}/s, store {db_mb:.1f} MB)"
            )
    rates = [row["items_per_s"] for row in rows]
    return {
        "scale": rows,
        "scale_min_items_per_s": min(rates),
        # The largest store's rate over the smallest's: 1.0 is flat.
        "scale_flatness": rates[-1] / rates[0],
    }


def cli_check(feeds: int, items: int, latency: float, work: Path) -> dict[str, Any]:
    """The acceptance check of issue 8, as a user would run it: ``briefing poll --config C
    --output D`` (a whole process: interpreter start, imports, poll, store) against a sequential
    ``feedparser.parse(url)`` loop in this process (no start-up counted: the stricter side).
    Every feed sits on one loopback host, and the default config is used."""
    import feedparser

    from briefing import pipeline
    from briefing.config import load_config
    from briefing.store import Store

    work.mkdir(parents=True, exist_ok=True)
    command = Path(sys.executable).with_name("briefing")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "briefing"]
    with Site(feeds, items, NOW, latency=latency, hosts=1, process=True) as site:
        config = work / "feeds.yaml"
        lines = ["feeds:"]
        for i in range(feeds):
            lines += [f"  - name: feed-{i:04d}", f"    url: {site.feed_url(i)}"]
        config.write_text("\n".join(lines) + "\n")
        urls = [site.feed_url(i) for i in range(feeds)]
        base_s, base_items = _timed(lambda: sum(len(feedparser.parse(u).entries) for u in urls))
        out = work / "out"
        started = time.perf_counter()
        child = subprocess.run(
            [*argv, "poll", "--config", str(config), "--output", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        ours_s = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"briefing poll failed:\n{child.stderr[-2000:]}")
    with Store.open(pipeline.store_path(load_config(config), out)) as store:
        stored = store.count_entries()
    _say(
        f"cli check: {feeds} feeds x {items} items, {latency * 1000:.0f} ms, one host: "
        f"feedparser loop {base_s:.2f} s ({base_items} items), `briefing poll` {ours_s:.2f} s "
        f"whole process ({stored} items stored)"
    )
    return {
        "cli_poll_speedup": base_s / ours_s,
        "cli_poll_seconds": ours_s,
        "cli_baseline_seconds": base_s,
        "cli_feeds": feeds,
        "cli_items_stored": stored,
        "cli_baseline_items": base_items,
        "cli_latency_s": latency,
    }


# -- the run ---------------------------------------------------------------------------------


def _meets(op: str, value: float, target: float) -> bool:
    return value >= target if op == ">=" else value <= target


def _verdict(targets: dict[str, tuple[str, float]], key: str, value: float) -> str:
    op, target = targets[key]
    return f"{op} {target:<8.3g} {'ok' if _meets(op, value, target) else 'MISS'}"


def regressions(results: dict[str, Any]) -> list[str]:
    """The ratios at half their target or worse (twice it for an upper bound)."""
    return [
        key
        for key, (op, target) in RATIOS.items()
        if key in results and not _meets(op, results[key], target / 2 if op == ">=" else target * 2)
    ]


def table(results: dict[str, Any]) -> str:
    lines = [f"{'figure':<32}{'value':>12}  target"]
    for key in TARGETS:
        if key in results:
            lines.append(f"{key:<32}{results[key]:>12.3f}  {_verdict(TARGETS, key, results[key])}")
    for row in results.get("scale", []):
        lines.append(
            f"{'  scale @ ' + format(row['store_articles'], ',') + ' articles':<32}"
            f"{row['items_per_s']:>12.0f}  items/s"
        )
    lines.append(f"{'ratio (same-run baseline)':<32}{'value':>12}  target (CI fails at half)")
    for key in RATIOS:
        if key in results:
            lines.append(f"{key:<32}{results[key]:>12.3f}  {_verdict(RATIOS, key, results[key])}")
    stages = results.get("build_stage_cpu_seconds")
    if stages:
        lines.append(
            "build stages (CPU s): "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1]))
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_build"]:
        return build_child(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under five minutes)")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # smoke test
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--corpus", type=Path, help="a corpus folder (pages/*.html, *.txt)")
    parser.add_argument(
        "--news",
        type=Path,
        action="append",
        help="build a real day instead of the generated one: a JSON list of feed items "
        "({id, title, text, link, outlet}, e.g. a corpus's items.json); repeatable",
    )
    parser.add_argument(
        "--only",
        action="append",
        help="run only these cases (poll, extract, tag, incremental, build, cluster, stix, "
        "scale, cli); "
        "repeatable",
    )
    parser.add_argument(
        "--cli-check",
        action="store_true",
        help="only the acceptance check: `briefing poll` (whole process) on 60 feeds x 20 items "
        "behind 200 ms, all on one host, vs a sequential feedparser loop",
    )
    args = parser.parse_args(argv)
    sizes = TINY if args.tiny else QUICK if args.quick else FULL
    corpus = load_corpus(args.corpus) if args.corpus else None
    cases: dict[str, Callable[[Path], dict[str, Any]]] = {
        "poll": lambda w: bench_poll(sizes, w),
        "extract": lambda w: bench_extract(sizes, w, corpus or None),
        "tag": lambda w: bench_tag(sizes, args.corpus),
        "incremental": lambda w: bench_incremental(sizes, w),
        "build": lambda w: bench_build(sizes.build_articles, w, _say, args.news or ()),
        "cluster": lambda w: bench_cluster(sizes.cluster_items, w, _say),
        "stix": lambda w: bench_stix_misp(
            Path(results["_build_folder"]) if "_build_folder" in results else None,
            w,
            sizes.build_articles,
            _say,
        ),
        "scale": lambda w: bench_scale(sizes, w),
        "cli": lambda w: cli_check(*((4, 3, 0.01) if args.tiny else (60, 20, 0.2)), w),
    }
    if args.cli_check:
        args.only = ["cli"]
    results: dict[str, Any] = {
        "mode": "tiny" if args.tiny else "quick" if args.quick else "full",
        "machine": {
            "cpus": os.cpu_count(),
            "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as tmp:
        # Stores live in the user's state folder: keep the runs' stores in the temporary one.
        os.environ["BRIEFING_STATE_DIR"] = str(Path(tmp) / "state")
        for name, case in cases.items():
            if args.only and name not in args.only:
                continue
            print(f"[{name}]", file=sys.stderr, flush=True)
            results.update(case(Path(tmp) / name))
    results.pop("_build_folder", None)
    results["total_seconds"] = time.perf_counter() - started
    alarms = regressions(results)
    results["alarms"] = alarms
    print(table(results))
    print(
        f"machine: {results['machine']['cpus']} cores, {results['machine']['mem_gib']} GiB; "
        f"{results['mode']} run took {results['total_seconds']:.0f} s"
    )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.tiny and alarms:
        print("regression alarm (a ratio at half its target or worse): " + ", ".join(alarms))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
