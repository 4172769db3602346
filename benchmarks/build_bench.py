"""Build-side cases of ``python -m benchmarks``: the build of a day, clustering, STIX + MISP.

In: sizes and a work folder. Out: a dict of figures for the run's JSON. Each case fills a store
with a generated day (``benchmarks.day``: feed text only, 70 % of stories told once), tags it
beforehand (tagging has a case of its own; its time here is reported as the tag stage's share),
then times its part, and times a *reference* in the same run so that a figure can be read as a
ratio that a slow or busy machine does not move (``reference_*`` below, README "Benchmarks").

* build: ``pipeline.build`` of the day in a child process (interpreter start and imports
  counted: what ``briefing build`` costs), the CPU seconds of each stage inside it, the PDF's
  pages and seconds a page, and a reference WeasyPrint render of a fixed plain page.
* cluster: ``story_groups`` over a tagged day of 2,000 items, CPU time.
* stix_misp: ``write_stix`` and ``write_misp_feed`` for the built day, CPU time.
"""

from __future__ import annotations

import io
import json
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import day

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
_WORD = re.compile(r"\w+")
# The reference page: plain paragraphs, no stylesheet, a fixed number of pages.
_PLAIN = (
    "<!DOCTYPE html><html><body>"
    + "".join(
        f"<p>Paragraph {n}. "
        + " ".join(day.FILLER[(n + k) % len(day.FILLER)] for k in range(4))
        + "</p>"
        for n in range(120)
    )
    + "</body></html>"
)


def reference_loop(texts: Sequence[str], at_least: float = 0.2) -> float:
    """CPU seconds a plain Python loop takes per text: lower-case, split into words, count
    them. The same kind of work as the build's (string and dict handling in the interpreter),
    so a machine or a moment that is N times slower moves it as much as the build; repeated
    until it has run ``at_least`` seconds."""
    rounds = 0
    started = time.process_time()
    while True:
        for text in texts:
            Counter(_WORD.findall(text.lower()))
        rounds += 1
        elapsed = time.process_time() - started
        if elapsed >= at_least:
            return elapsed / (rounds * len(texts))


def reference_pdf() -> float:
    """CPU seconds a page of WeasyPrint rendering a fixed plain page (no CSS, ~10 pages of
    paragraphs) costs: the floor our own pages are measured against."""
    from pypdf import PdfReader
    from weasyprint import HTML

    HTML(string="<p>warm-up</p>").write_pdf()
    started = time.process_time()
    pdf = HTML(string=_PLAIN).write_pdf()
    seconds = time.process_time() - started
    return seconds / len(PdfReader(io.BytesIO(pdf)).pages)


def prepare(
    folder: Path, articles: int, news: Sequence[Path] = ()
) -> tuple[dict[str, Any], float, list[str]]:
    """A store in ``folder`` holding a tagged day of ``articles`` generated articles (or the
    real feed items of the ``news`` files); returns its config dict, the tag stage's CPU
    seconds and the articles' texts (title and feed text)."""
    from briefing import pipeline
    from briefing.config import Config

    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "briefing.sqlite3"
    data = day.fill_news(store, list(news), NOW) if news else day.fill(store, articles, NOW)
    config = Config.model_validate(data)
    started = time.process_time()
    tagged = pipeline.tag(config, folder, NOW - timedelta(days=7), NOW).items
    tag_cpu = time.process_time() - started
    texts = [f"{entry.title}\n{article.text}" for entry, article, _found in tagged]
    return data, tag_cpu, texts


# -- the build, in a child process --------------------------------------------------------------

# (module, function, stage) timed inside the build child; a stage's time includes the stages it
# calls (archive includes misp), so the shares below subtract those.
_STAGES = (
    ("briefing.pipeline", "tag", "tag (lookup; tagged beforehand)"),
    ("briefing.pipeline", "history", "history"),
    ("briefing.stories.cluster", "story_groups", "cluster"),
    ("briefing.stories.continuity", "continued_groups", "continue"),
    ("briefing.stories.summarize", "summarize_stories", "summarize"),
    ("briefing.stories.compose", "compose", "compose"),
    ("briefing.pipeline", "trend", "trend"),
    ("briefing.publish.render", "dumps", "json"),
    ("briefing.publish.stix", "write_stix", "stix"),
    ("briefing.publish.render", "render_html", "html (both media)"),
    ("briefing.publish.render", "render_pdf", "pdf"),
    ("briefing.publish.archive", "update_archive", "archive"),
    ("briefing.publish.misp", "write_misp_feed", "misp"),
)


def _timed_stages() -> dict[str, float]:
    import importlib

    spent: dict[str, float] = {}
    for module_name, function, stage in _STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, function)

        def wrapper(
            *args: Any, _f: Callable[..., Any] = original, _s: str = stage, **kwargs: Any
        ) -> Any:
            started = time.process_time()
            try:
                return _f(*args, **kwargs)
            finally:
                spent[_s] = spent.get(_s, 0.0) + time.process_time() - started

        setattr(module, function, wrapper)
    return spent


def build_child(argv: list[str]) -> int:
    """``python -m benchmarks _build CONFIG.json OUTPUT``: one build, its stages' CPU seconds,
    the PDF's pages, peak RSS and the reference PDF page, as one JSON line."""
    started = time.perf_counter()
    from pypdf import PdfReader

    from briefing import pipeline
    from briefing.config import Config

    spent = _timed_stages()
    config = Config.model_validate(json.loads(Path(argv[0]).read_text()))
    cpu = time.process_time()
    result = pipeline.build(config, Path(argv[1]), NOW, timedelta(hours=24))
    cpu = time.process_time() - cpu
    seconds = time.perf_counter() - started
    pages = len(PdfReader(result.folder / "briefing.pdf").pages)
    spent["archive"] = spent.get("archive", 0.0) - spent.get("misp", 0.0)
    report = {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stories": len(result.briefing.stories),
        "pages": pages,
        "stages": spent,
        "files": {p.name: p.stat().st_size for p in result.folder.iterdir()},
        "reference_pdf_page": reference_pdf(),
    }
    print(json.dumps(report))
    return 0


def bench_build(
    articles: int, work: Path, say: Callable[[str], None], news: Sequence[Path] = ()
) -> dict[str, Any]:
    data, tag_cpu, texts = prepare(work / "store", articles, news)
    config_path = work / "build-config.json"
    config_path.write_text(json.dumps(data))
    reference = reference_loop(texts)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks", "_build", str(config_path), str(work / "store")],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The whole process's CPU (user + system): what the build costs, whatever the neighbours do.
    process_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if child.returncode != 0:
        raise RuntimeError(f"build subprocess failed:\n{child.stderr[-2000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    stages: dict[str, float] = report["stages"]
    pdf_page = stages.get("pdf", 0.0) / max(1, report["pages"])
    shares = ", ".join(f"{k} {v:.2f}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1]))
    say(
        f"build {len(texts)} articles -> {report['stories']} stories: {wall:.2f} s whole "
        f"process ({process_cpu:.2f} s CPU; {report['cpu']:.2f} s of it in the build "
        f"call), peak {report['peak_mb']:.0f} MB; "
        f"PDF {report['pages']} pages, {pdf_page:.3f} s/page (reference page "
        f"{report['reference_pdf_page']:.3f} s); tagged beforehand in {tag_cpu:.2f} s"
    )
    say(f"build stages, CPU s: {shares}")
    return {
        "build_seconds": wall,
        "build_process_cpu_seconds": process_cpu,
        "build_cpu_seconds": report["cpu"],
        "build_peak_mb": report["peak_mb"],
        "build_articles": len(texts),
        "build_source": "news" if news else "generated",
        "build_stories": report["stories"],
        "build_stage_cpu_seconds": stages,
        "build_tag_cpu_seconds": tag_cpu,
        "build_files": report["files"],
        "build_reference_seconds_per_article": reference,
        # The whole process's CPU seconds an article in units of the plain loop's CPU seconds
        # an article (CPU on both sides: on a loaded machine the wall clock measures the load).
        "build_ratio": process_cpu / len(texts) / reference,
        "pdf_pages": report["pages"],
        "pdf_seconds_per_page": pdf_page,
        "pdf_reference_seconds_per_page": report["reference_pdf_page"],
        "pdf_page_ratio": pdf_page / report["reference_pdf_page"],
        "_build_folder": str(work / "store"),
    }


def bench_cluster(items: int, work: Path, say: Callable[[str], None]) -> dict[str, Any]:
    from briefing import pipeline
    from briefing.config import Config
    from briefing.stories.cluster import story_groups

    data, _tag_cpu, texts = prepare(work / "store", items)
    config = Config.model_validate(data)
    start = NOW - timedelta(hours=24)
    tagged = pipeline.tag(config, work / "store", start, NOW).items
    _earlier, background = pipeline.history(config, work / "store", start, NOW)
    reference = reference_loop(texts)
    started = time.process_time()
    groups = story_groups(config, tagged, background)
    seconds = time.process_time() - started
    say(
        f"cluster {len(tagged)} items -> {len(groups)} groups: {seconds:.2f} s CPU "
        f"(reference loop {reference * 1e6:.0f} µs an item)"
    )
    return {
        "cluster_seconds": seconds,
        "cluster_items": len(tagged),
        "cluster_groups": len(groups),
        "cluster_reference_seconds_per_item": reference,
        "cluster_ratio": seconds / len(tagged) / reference,
    }


def bench_stix_misp(
    build_folder: Path | None, work: Path, articles: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """STIX bundle and MISP feed of a built day (the build case's, or a fresh one)."""
    from briefing import pipeline
    from briefing.config import Config
    from briefing.publish.archive import day_folders, load_day
    from briefing.publish.misp import write_misp_feed
    from briefing.publish.stix import write_stix

    if build_folder is None:
        data, _tag, _texts = prepare(work / "store", articles)
        build_folder = work / "store"
        pipeline.build(Config.model_validate(data), build_folder, NOW, timedelta(hours=24))
    folder = sorted(day_folders(build_folder))[-1]
    briefing = load_day(folder)
    assert briefing is not None
    write_stix(briefing, "bench", work)  # imports and lazily built tables outside the timing
    started = time.process_time()
    write_stix(briefing, "bench", folder)
    stix = time.process_time() - started
    started = time.process_time()
    write_misp_feed(build_folder, [briefing], "bench")
    misp = time.process_time() - started
    # Reference: the day's briefing.json read and written again by the standard library.
    raw = (folder / "briefing.json").read_text()
    rounds, started = 0, time.process_time()
    while (elapsed := time.process_time() - started) < 0.2 or rounds == 0:
        json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        rounds += 1
    reference = elapsed / rounds
    say(
        f"stix {stix:.2f} s + misp {misp:.2f} s CPU for {len(briefing.stories)} stories "
        f"(reference: briefing.json through json, {reference:.3f} s)"
    )
    return {
        "stix_misp_seconds": stix + misp,
        "stix_seconds": stix,
        "misp_seconds": misp,
        "stix_misp_reference_seconds": reference,
        "stix_misp_ratio": (stix + misp) / reference,
    }
