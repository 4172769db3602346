"""Smoke test for ``python -m benchmarks``: every case runs at tiny sizes and reports its keys.

Benchmarks are not tests: nothing here asserts a timing, only that the code works and that
the JSON carries what the README and issue 8 promise.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks._site import Site

KEYS = (
    "poll_speedup",
    "poll_vs_ideal",
    "extract_speedup",
    "extract_overhead",
    "tag_mb_per_s",
    "incremental_ratio",
    "incremental_page_fetches",
    "build_seconds",
    "build_peak_mb",
    "build_ratio",
    "build_stage_cpu_seconds",
    "pdf_seconds_per_page",
    "pdf_page_ratio",
    "cluster_seconds",
    "cluster_ratio",
    "stix_misp_seconds",
    "stix_misp_ratio",
    "tag_ratio",
    "scale",
    "scale_flatness",
    "cli_poll_speedup",
    "alarms",
)


def test_site_answers_conditional_requests_with_304() -> None:
    with Site(2, 3, datetime(2026, 3, 10, tzinfo=UTC)) as site:
        with urllib.request.urlopen(site.feed_url(1)) as response:
            etag = response.headers["ETag"]
            assert b"<item>" in response.read()
        request = urllib.request.Request(site.feed_url(1), headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        assert caught.value.code == 304
        caught.value.close()
        with urllib.request.urlopen(site.page_url(1, 2)) as response:
            assert b"<article>" in response.read()
    assert site.served == {"feed": 1, "304": 1, "page": 1}


def test_tiny_run_writes_every_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    # Exit status 1 is the regression alarm (a noisy machine can raise it), and only it.
    code = main(["--tiny", "--out", str(out)])
    results = json.loads(out.read_text())
    assert code == (1 if results["alarms"] else 0)
    for key in KEYS:
        assert key in results, key
    assert results["incremental_page_fetches"] == 0
    assert results["incremental_build_first_tagged"] > 0
    assert results["incremental_build_second_tagged"] == 0
    assert results["incremental_build_identical"] is True
    assert results["poll_items"] == results["poll_baseline_items"] > 0
    assert [row["store_articles"] for row in results["scale"]] == [200, 1_000]
    assert results["cli_items_stored"] == results["cli_baseline_items"] > 0
    assert "poll_speedup" in capsys.readouterr().out


def test_alarm_fires_on_a_ratio_at_half_its_target_and_never_on_an_absolute_time() -> None:
    from benchmarks.__main__ import RATIOS, regressions

    floor_key = next(k for k, (op, _t) in RATIOS.items() if op == ">=")
    ceiling_key = next(k for k, (op, _t) in RATIOS.items() if op == "<=")
    floor, ceiling = RATIOS[floor_key][1], RATIOS[ceiling_key][1]
    slow = {"build_seconds": 1e6, "pdf_seconds_per_page": 1e6, "tag_mb_per_s": 0.0}
    assert regressions({**slow, floor_key: floor * 0.6, ceiling_key: ceiling * 1.9}) == []
    assert set(regressions({floor_key: floor * 0.4, ceiling_key: ceiling * 2.1})) == {
        floor_key,
        ceiling_key,
    }
