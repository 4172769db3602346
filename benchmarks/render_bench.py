"""Render benchmark: a synthetic 200-story briefing -> HTML and PDF, timed.

Run ``python -m benchmarks.render_bench [--stories N] [--out DIR]``. Prints the seconds for
the HTML and for the PDF (WeasyPrint) and the PDF's page count; exits 1 when HTML + PDF takes
longer than the budget (5 s for 200 stories, issue 4).

What the PDF's time goes to (cProfile and Python call counts on the 200-story sample, which
are stable where the wall clock on this shared machine is not): WeasyPrint's cost follows the
number of boxes, not the CSS features. Every inline element costs ~1,500 calls of style,
line-breaking and painting; an inline-block one several times that (it is laid out and painted
as its own stacking context). Story cards are ~70% of the total, their chips alone were a
quarter. No box is absolutely positioned (``is_absolutely_positioned`` in a profile is a check
run on every box); percentages, break-inside, the SVG charts, target-counter, the margin boxes
and border-radius each cost 1-4%. Hence: chips are plain inline spans on paper, countries and
regions share a chip, long lists of story numbers are text (the cards are in rank order).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.samples import synthetic_briefing
from briefing.config import Config, FeedConfig
from briefing.publish.charts import Series
from briefing.publish.render import Trend, environment, render_html, render_pdf

BUDGET_SECONDS = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=200, help="stories in the briefing")
    parser.add_argument("--out", type=Path, help="keep briefing.html/.pdf in this folder")
    parser.add_argument("--page-size", choices=("A4", "Letter"), default="A4", help="PDF page")
    args = parser.parse_args(argv)

    config = Config(
        feeds=(FeedConfig(name="x", url="https://example.org/feed"),), page_size=args.page_size
    )
    briefing = synthetic_briefing(args.stories)
    trend = Trend(
        days=("03-04", "03-05", "03-06", "03-07", "03-08", "03-09", "03-10"),
        series=tuple(
            Series(s.title, tuple((i * 3 + n) % 7 for i in range(7)))
            for n, s in enumerate(briefing.by_actor[:5])
        ),
    )
    env = environment(config)
    render_pdf("<p>warm-up</p>")  # import WeasyPrint and load fonts outside the timing

    started = time.perf_counter()
    html = render_html(briefing, config, env, "html", trend)
    html_seconds = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    pdf = render_pdf(render_html(briefing, config, env, "pdf", trend))
    pdf_seconds = time.perf_counter() - started
    # CPU time too: on a shared, loaded machine the wall clock mostly measures the neighbours.
    pdf_cpu = time.process_time() - cpu

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    total = html_seconds + pdf_seconds
    print(
        f"{args.stories} stories: html {html_seconds:.2f} s ({len(html) // 1024} KiB), "
        f"pdf {pdf_seconds:.2f} s (cpu {pdf_cpu:.2f} s; {pages} pages, {len(pdf) // 1024} KiB), "
        f"total {total:.2f} s"
    )
    out = args.out or Path(tempfile.mkdtemp(prefix="render-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "briefing.html").write_text(html, encoding="utf-8")
    (out / "briefing.pdf").write_bytes(pdf)
    print(f"wrote {out}/briefing.html and briefing.pdf")
    if args.stories == 200 and total > BUDGET_SECONDS:
        print(f"over budget: {total:.2f} s > {BUDGET_SECONDS} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
