"""Shared fixtures: a real loopback site, configs written to disk, a pinned clock."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from briefing.localsite import LocalSite

if TYPE_CHECKING:
    from briefing.config import Config
    from briefing.models import Article, Briefing, Entry
    from briefing.store import FeedState
    from briefing.stories.summarize import Summarizer

FIXTURE_SITE = Path(__file__).parent / "fixtures" / "site"
# The fixture site's items are dated around this moment (see fixtures/site/MANIFEST.md).
NOW = "2026-03-10T08:00:00Z"
NOW_DT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True, scope="session")
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The KB cache and ``kb update`` write to the user's data folder: keep tests out of $HOME."""
    import os

    old = os.environ.get("BRIEFING_DATA_DIR")
    os.environ["BRIEFING_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    yield
    if old is None:
        os.environ.pop("BRIEFING_DATA_DIR", None)
    else:
        os.environ["BRIEFING_DATA_DIR"] = old


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Stores live in the user's state folder (outside the published output): keep tests out
    of $HOME."""
    import os

    old = os.environ.get("BRIEFING_STATE_DIR")
    os.environ["BRIEFING_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        os.environ.pop("BRIEFING_STATE_DIR", None)
    else:
        os.environ["BRIEFING_STATE_DIR"] = old


def copy_output(out: Path, copy: Path) -> Path:
    """A private copy of a built output folder with a store of its own: the folder names its
    store by id (``.briefing-store``), so a plain copy would share the original's store. The
    store goes in at the old in-folder place, which the first open moves to a new id."""
    from briefing.store import OLD_STORE_NAME, STORE_ID_FILE, default_path

    shutil.copytree(out, copy, ignore=shutil.ignore_patterns(STORE_ID_FILE))
    shutil.copy(default_path(out), copy / OLD_STORE_NAME)
    return copy


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite(FIXTURE_SITE) as running:
        yield running


def write_config(folder: Path, base_url: str, extra: str = "", feeds: str | None = None) -> Path:
    """A config for the fixture site's three feeds, with fast limits for tests."""
    feeds = feeds or (
        f"  - name: Alpha News\n    url: {base_url}/a/feed.xml\n    tags: [news]\n"
        f"  - name: Beta Labs\n    url: {base_url}/b/atom.xml\n"
        f"  - name: Gamma CERT\n    url: {base_url}/c/feed.xml\n    weight: 1.2\n"
    )
    path = folder / "feeds.yaml"
    path.write_text(
        "title: Test Briefing\n"
        "poll:\n  connect_timeout: 5\n  read_timeout: 15\n  total_timeout: 30\n  retries: 1\n"
        "  max_retry_wait: 1\n"
        "extract:\n  workers: 1\n"
        f"{extra}"
        "feeds:\n" + feeds,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_file(tmp_path: Path, site: LocalSite) -> Path:
    return write_config(tmp_path, site.base_url)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail (never hang) when ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.01)


def compose_pairs(
    config: Config,
    pairs: Sequence[tuple[Entry, Article]],
    states: dict[str, FeedState],
    start: datetime,
    end: datetime,
    summarizer: Summarizer | None = None,
) -> Briefing:
    """The briefing of ``pairs`` through every build stage after the store: tag (in memory),
    cluster, summarize, compose."""
    from briefing.intel.stage import tag_articles
    from briefing.pipeline import brief

    return brief(config, tag_articles(pairs).items, states, start, end, summarizer)
