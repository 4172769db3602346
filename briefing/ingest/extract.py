"""Extract stage: stored entries -> ``Article``s with the clean text of each item.

In: the store's pending entries (new ones, and revised ones whose article is older than the
revision). Out: one ``Article`` per entry saved in the store, with a quality flag:

* ``full``      the article page was fetched and trafilatura found the article in it;
* ``feed-only`` the page failed or gave less than the feed itself (a teaser page, a paywall),
  so the feed's ``content:encoded`` or summary is the text;
* ``failed``    neither page nor feed had any text: only the title is known.

Pages are fetched under the same limits as feeds; each canonical URL is fetched and extracted
once, ever (the outcome, failures included, is cached in the store), so a second run fetches no
page. trafilatura is CPU-bound, so with enough pages it runs in a process pool started before
the first fetch (``workers.WarmPool``), inline until the workers are up and for a few pages
(``include_comments=False``: with comments a page's text is several times longer and slower).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from typing import Any

from briefing.bounds import ARTICLE_MAX, AUTHOR_MAX
from briefing.config import Config, parse_duration
from briefing.ingest.fetch import Fetcher, FetchError
from briefing.ingest.netguard import Reach
from briefing.ingest.workers import WarmPool
from briefing.models import Article, Entry, Quality
from briefing.sanitize import clean_line, clean_text
from briefing.store import REFUSED, PageResult, Store, canonical_url

# Page text shorter than this is a teaser, a paywall or a cookie wall, not an article.
MIN_ARTICLE_CHARS = 300


@dataclass(frozen=True)
class ExtractStats:
    entries: int
    pages_fetched: int
    full: int
    feed_only: int
    failed: int


def extract_html(html: str | bytes, url: str | None) -> dict[str, Any]:
    """One page's HTML -> {"text", "title", "author", "date", "language"} (runs in a worker)."""
    from trafilatura import bare_extraction

    # bare_extraction, not extract(output_format="json"): the same text without the JSON round
    # trip. Metadata comes from ``page_metadata``: trafilatura's own (htmldate, byline
    # heuristics) cost 70% of a page's extraction time for fields the feed mostly gives anyway.
    document = bare_extraction(
        html,
        url=url,
        include_comments=False,
        include_tables=True,
        # trafilatura's dedup cache lives as long as the process: a page extracted twice (a rerun
        # in `serve`, a test) would come back empty.
        deduplicate=False,
    )
    text = ""
    if document is not None and not isinstance(document, dict):  # dict only with as_dict=True
        text = (document.text or document.raw_text or "").strip()
    markup = html if isinstance(html, str) else html.decode("utf-8", errors="replace")
    return {"text": text, **page_metadata(markup)}


_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)
_LD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_LD_AUTHOR = re.compile(r'"author"\s*:\s*(?:\[\s*)?\{[^{}]*?"name"\s*:\s*"([^"]{2,120})"')
_TITLE_KEYS = ("og:title", "twitter:title", "dc.title")
_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author")
_DATE_KEYS = (
    "article:published_time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "parsely-pub-date",
    "og:published_time",
)


def _clean(value: str) -> str:
    return " ".join(unescape(value).split())


def page_metadata(html: str) -> dict[str, str | None]:
    """Title, author, date and language from a page's meta tags, JSON-LD and ``<html lang>``.

    Fallbacks only — the feed's own title, author and date win — so a cheap scan of the tags
    pages declare for exactly this is enough.
    """
    head = html[:200_000]
    metas: dict[str, str] = {}
    for tag in _META_TAG.findall(head):
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _ATTR.finditer(tag)
        }
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        if key and "content" in attrs:
            metas.setdefault(key, _clean(attrs["content"]))
    title = next((metas[k] for k in _TITLE_KEYS if metas.get(k)), "")
    if not title and (match := _TITLE_TAG.search(head)):
        title = _clean(match.group(1))
    author = next((metas[k] for k in _AUTHOR_KEYS if metas.get(k) and "://" not in metas[k]), "")
    if not author and (match := _LD_AUTHOR.search(html)):
        author = _clean(match.group(1))
    date = next((metas[k] for k in _DATE_KEYS if metas.get(k)), None)
    if date is None and (match := _LD_DATE.search(html)):
        date = match.group(1)
    lang = _HTML_LANG.search(head)
    language = lang.group(1).lower() if lang else metas.get("og:locale", "")[:2].lower()
    return {
        "title": title[:500],
        "author": author[:200],
        "date": date,
        "language": language or None,
    }


_WARM_PAGE = (
    "<html lang='en'><head><title>Warm</title></head><body><article><p>"
    + "A sentence that makes this a page worth extracting. " * 12
    + "</p></article></body></html>"
)


def warm_worker() -> None:
    """Each extraction worker, once: import trafilatura and load its lazily built tables (the
    public-suffix list alone is ~0.17 s) before the first real page."""
    extract_html(_WARM_PAGE, "https://warm.example/a")


def feed_text(entry: Entry) -> str:
    """The best text the feed itself gave: ``content:encoded`` if any, else the summary."""
    best = entry.content if len(entry.content) >= len(entry.summary) else entry.summary
    if not best.strip():
        return ""
    if "<" not in best:
        return best.strip()
    # Feed HTML is a fragment; trafilatura would drop short ones as boilerplate.
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(best, create_parent="div")
    except Exception:  # lxml raises several unrelated types on hostile markup
        return ""
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    # Lines break at block elements and <br>; text outside any block (a KEV item's whole
    # description, "Vendor: x<br>Product: y") is kept, not only what sits in <p> or <li>.
    for node in root.iter(*_BLOCKS):
        node.text = "\n" + (node.text or "")
        node.tail = "\n" + (node.tail or "")
    for node in root.iter("br"):
        node.tail = "\n" + (node.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


_BLOCKS = (
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "div",
    "ul",
    "ol",
    "table",
    "tr",
    "td",
    "th",
    "dd",
    "dt",
    "figcaption",
    "section",
    "article",
)


def choose(entry: Entry, page: PageResult | None) -> Article:
    """The better of the page's text and the feed's own, with its quality flag."""
    from_feed = feed_text(entry)
    page_text = page.text if page is not None and page.ok else ""
    text: str
    quality: Quality
    if len(page_text) >= MIN_ARTICLE_CHARS and len(page_text) >= 0.6 * len(from_feed):
        text, quality = page_text, "full"
    elif from_feed or page_text:
        text = from_feed if len(from_feed) >= len(page_text) else page_text
        quality = "feed-only"
    else:
        text, quality = "", "failed"
    return Article(
        entry_id=entry.id,
        url=entry.link,
        title=entry.title,
        # A page is as hostile as its feed: no controls or invisible characters, bounded.
        text=clean_text(text[:ARTICLE_MAX]),
        author=entry.author or clean_line(page.author if page else "")[:AUTHOR_MAX],
        published=entry.published,
        language=page.language if page else None,
        quality=quality,
    )


# Below this many pages extraction stays inline: starting worker processes (~0.3-0.5 s of CPU
# on a small machine) costs more than spreading ~5-15 ms a page over the cores saves.
POOL_MIN_PAGES = 40


async def extract_pending(
    config: Config,
    store: Store,
    now: datetime,
    on_done: Callable[[Article], None] | None = None,
) -> ExtractStats:
    """Fetch and extract every pending entry; each article is saved as soon as it is ready."""
    pending = store.pending_entries()
    oldest = now - parse_duration(config.extract.max_age)
    if config.extract.fetch_pages:
        pending += _refused_before(store, pending, oldest, now)
    counts = {"full": 0, "feed-only": 0, "failed": 0}
    fetched = 0
    if not pending:
        return ExtractStats(0, 0, 0, 0, 0)
    to_fetch: dict[str, list[Entry]] = {}
    ready: list[tuple[Entry, PageResult | None]] = []
    for entry in pending:
        if not entry.link or not config.extract.fetch_pages or entry.published < oldest:
            ready.append((entry, None))
            continue
        cached = store.page(entry.link)
        if cached is not None and not (cached.error or "").startswith(REFUSED):
            ready.append((entry, cached))
        else:
            to_fetch.setdefault(canonical_url(entry.link), []).append(entry)

    def finish(entry: Entry, page: PageResult | None) -> None:
        article = choose(entry, page)
        store.save_article(article, entry.revision)
        done(article)

    def done(article: Article) -> None:
        counts[article.quality] += 1
        if on_done is not None:
            on_done(article)

    # What needs no fetch is saved in one transaction: a commit per article was most of the
    # cost of taking in feed-only items (1,000: 3,000 statements, 16,000 WAL page writes).
    articles = [(choose(entry, page), entry.revision) for entry, page in ready]
    store.save_articles(articles)
    for article, _revision in articles:
        done(article)
    if not to_fetch:
        return ExtractStats(len(pending), 0, counts["full"], counts["feed-only"], counts["failed"])

    workers = config.extract.workers or os.cpu_count() or 1
    workers = min(workers, len(to_fetch))
    feed_urls = {feed.name: feed.url for feed in config.feeds}
    # Started before the first fetch: the workers come up while the first pages are on the way,
    # and until they answer, pages are extracted inline.
    pool = (
        WarmPool(workers, ["trafilatura", "briefing.ingest.extract"], warm_worker)
        if workers > 1 and len(to_fetch) >= POOL_MIN_PAGES
        else None
    )

    async def one(entries: list[Entry]) -> None:
        nonlocal fetched
        url = entries[0].link or ""
        # A link chosen by a feed's author may reach a private address only on the host of a
        # feed that listed it, or in a network the operator allowed (see netguard).
        reach = Reach.for_feeds(
            {feed_urls[e.feed] for e in entries if e.feed in feed_urls},
            config.poll.allow_networks,
        )
        try:
            response = await fetcher.get(url, {"Accept": "text/html,*/*;q=0.5"}, reach)
            fetched += 1
            charset = _charset(response.headers)
            # Without a declared charset, trafilatura's own detection (meta tags, sniffing)
            # beats a guess.
            html: str | bytes = (
                response.body.decode(charset, errors="replace") if charset else response.body
            )
            if pool is not None and pool.ready:
                data = await pool.run(extract_html, html, response.url)
            else:
                # Inline, on the event loop's thread: trafilatura is not safe to run in several
                # threads at once, so never in asyncio.to_thread.
                data = extract_html(html, response.url)
            page = PageResult(url=url, ok=bool(data["text"]), error=None, **data)
        except FetchError as exc:
            fetched += 1
            page = PageResult(url, False, str(exc), "", "", "", None, None)
        except Exception as exc:  # a page that breaks the extractor must not stop the run
            page = PageResult(url, False, f"extraction failed: {exc}"[:300], "", "", "", None, None)
        store.save_page(page, now)
        for entry in entries:
            finish(entry, page)

    try:
        async with Fetcher(config.poll) as fetcher:
            await asyncio.gather(*(one(entries) for entries in to_fetch.values()))
    finally:
        if pool is not None:
            await asyncio.to_thread(pool.close)
    return ExtractStats(
        len(pending), fetched, counts["full"], counts["feed-only"], counts["failed"]
    )


def _refused_before(
    store: Store, pending: list[Entry], oldest: datetime, now: datetime
) -> list[Entry]:
    """Extracted entries of the extraction window whose page the SSRF guard refused: the
    refusal follows the config (``poll.allow_networks``, the feeds' hosts), not the page, so
    it is not kept as the page's answer. Asking again costs a DNS lookup when still refused."""
    refused = store.refused_pages()
    if not refused:
        return []
    waiting = {entry.id for entry in pending}
    return [
        entry
        for entry in store.entries_between(oldest, now)
        if entry.id not in waiting and entry.link and canonical_url(entry.link) in refused
    ]


def _charset(headers: dict[str, str]) -> str | None:
    content_type = headers.get("content-type", "")
    for part in content_type.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip("\"' ").lower()
            try:
                "".encode(charset)
            except LookupError:
                break
            return charset
    return None
