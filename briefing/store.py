"""Store stage: the SQLite file between polling (often) and building (daily).

In: ``FeedItem``s from poll, feed outcomes, extracted ``Article``s. Out: ``Entry``s waiting for
extraction, the articles of a time window, feed health.

Rules that keep items from being lost or duplicated:

* An entry's id is stable: the feed's GUID (scoped to the feed, since GUIDs like "1" are not
  unique across sites), else the canonical link (no ``utm_*``, no fragment) scoped to the feed
  too -- another feed naming the same link must never overwrite this feed's item (a forgery
  credited to the trusted source); clustering folds the two into one story -- else a hash of
  feed, title and link.
* "Seen" never depends on dates: an item whose id is stored is known whatever its date, and one
  with no date gets the time it was first seen.
* An item that comes back with different text is a revision of the same entry: the row is
  updated, its revision counter bumped and the old text kept in ``revisions``.
* Every feed's items are committed in one transaction as soon as that feed is parsed, and every
  article as soon as it is extracted: a crash loses at most the work in flight.

WAL mode lets a reader (a build) run while a poll writes. Schema changes are numbered
migrations applied in order on open.

Where it lives (``default_path``): outside the output folder, which is published as it is. The
store holds what must never be served -- the recipients of every delivery, feed URLs that may
carry tokens, the review log -- and a static server serves every file of a folder, dot-files
included. The output folder holds only ``.briefing-store``, a random id naming its store in the
user's state directory: a fresh ``--output`` is a fresh world, a moved folder finds its store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from briefing.errors import StoreError
from briefing.models import Article, Entities, Entry, FeedItem, Quality, is_failing

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE feeds (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        status TEXT NOT NULL DEFAULT 'never-polled',
        error TEXT,
        last_polled TEXT,
        last_ok TEXT,
        failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE entries (
        id TEXT PRIMARY KEY,
        feed TEXT NOT NULL,
        guid TEXT,
        link TEXT,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        content TEXT NOT NULL,
        author TEXT NOT NULL,
        published TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        updated TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        content_hash TEXT NOT NULL
    );
    CREATE INDEX entries_published ON entries(published);
    CREATE TABLE revisions (
        entry_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        content TEXT NOT NULL,
        replaced TEXT NOT NULL,
        PRIMARY KEY (entry_id, revision)
    );
    CREATE TABLE pages (
        url TEXT PRIMARY KEY,
        fetched TEXT NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT,
        result TEXT
    );
    CREATE TABLE articles (
        entry_id TEXT PRIMARY KEY REFERENCES entries(id),
        revision INTEGER NOT NULL,
        url TEXT,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        author TEXT NOT NULL,
        published TEXT NOT NULL,
        language TEXT,
        quality TEXT NOT NULL
    );
    """,
    # 2: deliveries, one row per (briefing date, recipient, channel): what makes a rerun (or a
    # catch-up after a restart) send nothing twice. ``status`` is "sent" or "skipped".
    """
    CREATE TABLE deliveries (
        date TEXT NOT NULL,
        recipient TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        at TEXT NOT NULL,
        stories INTEGER NOT NULL,
        detail TEXT,
        PRIMARY KEY (date, recipient, channel)
    );
    """,
    # 3: when the current run of failures began, so feed health can say "failing since".
    """
    ALTER TABLE feeds ADD COLUMN failing_since TEXT;
    """,
    # 4: the outlet an aggregator feed names for an item (its <source>), so five outlets in
    # one bundle count as five.
    """
    ALTER TABLE entries ADD COLUMN outlet TEXT;
    """,
    # 5: the tag stage's output per entry, so a build tags only what no tagger of the current
    # version has tagged. ``input`` is a digest of what was tagged (title, text, host): an
    # entry extracted after an earlier build (feed text first, the page later) is tagged again.
    """
    CREATE TABLE entities (
        entry_id TEXT PRIMARY KEY REFERENCES entries(id),
        tagger TEXT NOT NULL,
        input TEXT NOT NULL,
        data TEXT NOT NULL
    );
    """,
    # 6 (harden, "feed-scoped link ids"): a GUID-less item's id is its canonical link scoped to
    # its feed. Rows keep their content; their ids, and the articles, revisions and entities
    # pointing at them, move to the new id (``briefing_link_id`` is registered on every
    # connection).
    """
    PRAGMA defer_foreign_keys = ON;
    UPDATE articles SET entry_id = (
        SELECT briefing_link_id(e.feed, e.link) FROM entries e WHERE e.id = articles.entry_id
    ) WHERE entry_id IN (SELECT id FROM entries WHERE guid IS NULL AND link <> '');
    UPDATE revisions SET entry_id = (
        SELECT briefing_link_id(e.feed, e.link) FROM entries e WHERE e.id = revisions.entry_id
    ) WHERE entry_id IN (SELECT id FROM entries WHERE guid IS NULL AND link <> '');
    UPDATE entities SET entry_id = (
        SELECT briefing_link_id(e.feed, e.link) FROM entries e WHERE e.id = entities.entry_id
    ) WHERE entry_id IN (SELECT id FROM entries WHERE guid IS NULL AND link <> '');
    UPDATE entries SET id = briefing_link_id(feed, link) WHERE guid IS NULL AND link <> '';
    """,
    # 7: an analyst's review actions on a day's briefing (``briefing.review``), in order, with
    # who and when; an undone action keeps its row (``undone_*``) so the log tells everything.
    # IF NOT EXISTS: the table is the same whatever number another branch gives this step.
    """
    CREATE TABLE IF NOT EXISTS review_actions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        date TEXT NOT NULL,
        action TEXT NOT NULL,
        data TEXT NOT NULL,
        by TEXT NOT NULL,
        at TEXT NOT NULL,
        undone_by TEXT,
        undone_at TEXT
    );
    CREATE INDEX IF NOT EXISTS review_actions_date ON review_actions(date, seq);
    """,
)

# How the SSRF guard's refusals begin (netguard.AddressBlocked), as a page's error.
REFUSED = "refused:"

_TRACKING_PREFIXES = ("utm_",)
_TRACKING_KEYS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "_hsenc", "_hsmi"})


def canonical_url(url: str) -> str:
    """The URL without tracking parameters and fragment, with a lower-case scheme and host."""
    parts = urlsplit(url.strip())
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING_PREFIXES) and key.lower() not in _TRACKING_KEYS
    ]
    netloc = parts.netloc.lower()
    if (parts.scheme == "http" and netloc.endswith(":80")) or (
        parts.scheme == "https" and netloc.endswith(":443")
    ):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def link_id(feed: str, link: str) -> str:
    """The id of a GUID-less item: its canonical link, scoped to its feed."""
    return _digest("url", feed, canonical_url(link))


def entry_id(item: FeedItem) -> str:
    if item.guid:
        return _digest("guid", item.feed, item.guid.strip())
    if item.link:
        return link_id(item.feed, item.link)
    return _digest("hash", item.feed, item.title.strip(), "")


def _content_hash(item: FeedItem) -> str:
    return _digest(item.title, item.summary, item.content)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class FeedState:
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    status: str
    error: str | None
    last_polled: datetime | None
    last_ok: datetime | None
    failures: int
    failing_since: datetime | None = None


@dataclass(frozen=True)
class PageResult:
    """What fetching and extracting one article page gave; cached per canonical URL."""

    url: str
    ok: bool
    error: str | None
    text: str
    title: str
    author: str
    date: str | None
    language: str | None


@dataclass(frozen=True)
class Delivery:
    """One briefing delivered (or deliberately skipped) to one recipient over one channel."""

    date: str
    recipient: str  # lower-cased address
    channel: str  # "email"
    status: str  # "sent" or "skipped"
    at: datetime
    stories: int
    detail: str | None


def _delivery(row: Sequence[object]) -> Delivery:
    return Delivery(
        date=str(row[0]),
        recipient=str(row[1]),
        channel=str(row[2]),
        status=str(row[3]),
        at=_parse(str(row[4])),
        stories=int(str(row[5])),
        detail=str(row[6]) if row[6] is not None else None,
    )


# The output folder's pointer to its store: one random id (nothing else, so it may be served).
STORE_ID_FILE = ".briefing-store"
OLD_STORE_NAME = "briefing.sqlite3"  # where the store lived, inside the output folder
_STORE_ID = re.compile(r"[0-9a-f]{32}")


def state_dir() -> Path:
    """Where stores live: $BRIEFING_STATE_DIR, else $XDG_STATE_HOME/briefing, else
    ~/.local/state/briefing."""
    env = os.environ.get("BRIEFING_STATE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state") / "briefing"


def default_path(output: Path) -> Path:
    """The store of the output folder ``output`` (created, with its id, if it has none yet).

    A store found at the old place (``OUTPUT/briefing.sqlite3``) moves to the new one, its WAL
    checkpointed first so that no committed write stays behind in the published folder."""
    pointer = output / STORE_ID_FILE
    try:
        store_id = pointer.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        store_id = _new_id(pointer)
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{pointer}: cannot read the store's id: {exc}") from None
    if not _STORE_ID.fullmatch(store_id):
        raise StoreError(f"{pointer}: not a store id (32 hex digits); remove it to start afresh")
    path = state_dir() / "stores" / store_id / "briefing.sqlite3"
    old = output / OLD_STORE_NAME
    if old.is_file():
        _move_store(old, path)
    return path


def _new_id(pointer: Path) -> str:
    pointer.parent.mkdir(parents=True, exist_ok=True)
    store_id = uuid.uuid4().hex
    try:
        # O_EXCL: of two processes starting one folder at once, both end with the first's id.
        fd = os.open(pointer, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return pointer.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(store_id + "\n")
    return store_id


def _move_store(old: Path, new: Path) -> None:
    if new.exists():
        raise StoreError(
            f"{old}: a store inside the output folder, and its folder already has one at {new}; "
            "move or delete one of them"
        )
    try:
        with sqlite3.connect(old, isolation_level=None) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        new.parent.mkdir(parents=True, exist_ok=True)
        # Copied under a temporary name, then renamed: a crash leaves the old store whole.
        part = new.with_name(new.name + ".part")
        shutil.copyfile(old, part)
        os.replace(part, new)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{old}{suffix}").unlink(missing_ok=True)
    except (OSError, sqlite3.DatabaseError) as exc:
        raise StoreError(f"{old}: cannot move the store out of the output folder: {exc}") from None


@dataclass(frozen=True)
class StoredAction:
    """A row of ``review_actions``: ``data`` is the action's JSON (``briefing.review``)."""

    seq: int
    date: str
    action: str
    data: str
    by: str
    at: datetime
    undone_by: str | None = None
    undone_at: datetime | None = None


def _stored_action(row: Sequence[object]) -> StoredAction:
    return StoredAction(
        seq=int(str(row[0])),
        date=str(row[1]),
        action=str(row[2]),
        data=str(row[3]),
        by=str(row[4]),
        at=_parse(str(row[5])),
        undone_by=str(row[6]) if row[6] is not None else None,
        undone_at=_parse(str(row[7])) if row[7] is not None else None,
    )


@dataclass(frozen=True)
class SaveCounts:
    new: int
    revised: int
    unchanged: int


class Store:
    """One SQLite database; open with ``Store.open(path)`` and use as a context manager."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> Store:
        path = Path(path)
        try:
            # The store's folder is the owner's alone: it holds recipients and feed URLs.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.create_function("briefing_link_id", 2, link_id, deterministic=True)
            store = cls(db, path)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the store: {exc}") from None
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this briefing "
                f"({len(MIGRATIONS)}); upgrade briefing"
            )
        for number in range(version, len(MIGRATIONS)):
            with self._tx() as db:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # --- feeds -----------------------------------------------------------------------------

    def feed_state(self, name: str) -> FeedState | None:
        row = self._db.execute(
            "SELECT name, url, etag, last_modified, status, error, last_polled, last_ok, failures,"
            " failing_since FROM feeds WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        return FeedState(
            name=row[0],
            url=row[1],
            etag=row[2],
            last_modified=row[3],
            status=row[4],
            error=row[5],
            last_polled=_parse(row[6]) if row[6] else None,
            last_ok=_parse(row[7]) if row[7] else None,
            failures=row[8],
            failing_since=_parse(row[9]) if row[9] else None,
        )

    def feed_states(self) -> dict[str, FeedState]:
        names = [row[0] for row in self._db.execute("SELECT name FROM feeds")]
        return {name: state for name in names if (state := self.feed_state(name))}

    def record_poll(
        self,
        name: str,
        url: str,
        *,
        status: str,
        error: str | None,
        now: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
        items: Sequence[FeedItem] = (),
    ) -> SaveCounts:
        """Save a feed's outcome and its items in one transaction."""
        succeeded = not is_failing(status)
        with self._tx() as db:
            previous = db.execute(
                "SELECT url, etag, last_modified, failures FROM feeds WHERE name = ?", (name,)
            ).fetchone()
            url_changed = previous is not None and previous[0] != url
            if succeeded:
                if status == "not-modified" and previous is not None:
                    etag, last_modified = previous[1], previous[2]
                db.execute(
                    "INSERT INTO feeds (name, url, etag, last_modified, status, error,"
                    " last_polled, last_ok, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)"
                    " ON CONFLICT(name) DO UPDATE SET url=excluded.url, etag=excluded.etag,"
                    " last_modified=excluded.last_modified, status=excluded.status,"
                    " error=excluded.error, last_polled=excluded.last_polled,"
                    " last_ok=excluded.last_ok, failures=0, failing_since=NULL",
                    (name, url, etag, last_modified, status, error, _iso(now), _iso(now)),
                )
            else:
                db.execute(
                    "INSERT INTO feeds (name, url, status, error, last_polled, failures,"
                    " failing_since) VALUES (?, ?, ?, ?, ?, 1, ?)"
                    " ON CONFLICT(name) DO UPDATE SET url=excluded.url, status=excluded.status,"
                    " error=excluded.error, last_polled=excluded.last_polled,"
                    " failures=feeds.failures + 1,"
                    " failing_since=COALESCE(feeds.failing_since, excluded.failing_since)",
                    (name, url, status, error, _iso(now), _iso(now)),
                )
            if url_changed:
                # A moved feed must not be asked with the old feed's validators.
                db.execute(
                    "UPDATE feeds SET etag = NULL, last_modified = NULL WHERE name = ?", (name,)
                )
            return self._save_items(db, items, now)

    def _save_items(
        self, db: sqlite3.Connection, items: Iterable[FeedItem], now: datetime
    ) -> SaveCounts:
        # One lookup and one batched insert per feed, not a round trip per item: the store
        # write was a quarter of a poll's CPU on the event loop.
        stamp = _iso(now)
        unique: dict[str, FeedItem] = {}
        for item in items:
            unique.setdefault(entry_id(item), item)  # the same item twice in one document
        known: dict[str, tuple[str, int, str, str, str]] = {}
        keys = list(unique)
        for start in range(0, len(keys), 500):  # under SQLite's bound-variable limit
            chunk = keys[start : start + 500]
            known.update(
                (row[0], row[1:])
                for row in db.execute(
                    "SELECT id, content_hash, revision, title, summary, content FROM entries"
                    f" WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        inserts = []
        revised = unchanged = 0
        for key, item in unique.items():
            digest = _content_hash(item)
            row = known.get(key)
            if row is None:
                published = _iso(item.published) if item.published else stamp
                inserts.append(
                    (
                        key,
                        item.feed,
                        item.guid,
                        item.link,
                        item.title,
                        item.summary,
                        item.content,
                        item.author,
                        published,
                        stamp,
                        stamp,
                        digest,
                        item.outlet,
                    )
                )
            elif row[0] != digest:
                db.execute(
                    "INSERT OR REPLACE INTO revisions VALUES (?, ?, ?, ?, ?, ?)",
                    (key, row[1], row[2], row[3], row[4], stamp),
                )
                # The first-seen date stays: a revision is the same story, not a new one.
                db.execute(
                    "UPDATE entries SET link = ?, title = ?, summary = ?, content = ?, author = ?,"
                    " updated = ?, revision = revision + 1, content_hash = ?, outlet = ?"
                    " WHERE id = ?",
                    (
                        item.link,
                        item.title,
                        item.summary,
                        item.content,
                        item.author,
                        stamp,
                        digest,
                        item.outlet,
                        key,
                    ),
                )
                revised += 1
            else:
                unchanged += 1
        db.executemany(
            "INSERT INTO entries (id, feed, guid, link, title, summary, content, author,"
            " published, first_seen, updated, revision, content_hash, outlet)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            inserts,
        )
        new = len(inserts)
        return SaveCounts(new=new, revised=revised, unchanged=unchanged)

    # --- entries and articles --------------------------------------------------------------

    _ENTRY_COLUMNS = (
        "e.id, e.feed, e.link, e.title, e.summary, e.content, e.author,"
        " e.published, e.first_seen, e.revision, e.outlet"
    )

    @staticmethod
    def _entry(row: Sequence[object]) -> Entry:
        return Entry(
            id=str(row[0]),
            feed=str(row[1]),
            link=str(row[2]) if row[2] else None,
            title=str(row[3]),
            summary=str(row[4]),
            content=str(row[5]),
            author=str(row[6]),
            published=_parse(str(row[7])),
            first_seen=_parse(str(row[8])),
            revision=int(str(row[9])),
            outlet=str(row[10]) if row[10] else None,
        )

    def pending_entries(self) -> list[Entry]:
        """Entries with no article yet, or whose article predates their latest revision."""
        rows = self._db.execute(
            f"SELECT {self._ENTRY_COLUMNS} FROM entries e LEFT JOIN articles a"
            " ON a.entry_id = e.id WHERE a.entry_id IS NULL OR a.revision < e.revision"
            " ORDER BY e.published, e.id"
        ).fetchall()
        return [self._entry(row) for row in rows]

    def entries_between(self, start: datetime, end: datetime) -> list[Entry]:
        rows = self._db.execute(
            f"SELECT {self._ENTRY_COLUMNS} FROM entries e"
            " WHERE e.published > ? AND e.published <= ? ORDER BY e.published, e.id",
            (_iso(start), _iso(end)),
        ).fetchall()
        return [self._entry(row) for row in rows]

    def count_entries(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def page(self, url: str) -> PageResult | None:
        row = self._db.execute(
            "SELECT ok, error, result FROM pages WHERE url = ?", (canonical_url(url),)
        ).fetchone()
        if row is None:
            return None
        result = json.loads(row[2]) if row[2] else {}
        return PageResult(
            url=url,
            ok=bool(row[0]),
            error=row[1],
            text=result.get("text", ""),
            title=result.get("title", ""),
            author=result.get("author", ""),
            date=result.get("date"),
            language=result.get("language"),
        )

    def refused_pages(self) -> set[str]:
        """Canonical URLs of pages the SSRF guard refused: a wider ``poll.allow_networks`` (or
        a new feed on that host) may allow them now, so they are asked again."""
        rows = self._db.execute(
            "SELECT url FROM pages WHERE ok = 0 AND error LIKE ?", (REFUSED + "%",)
        )
        return {str(row[0]) for row in rows}

    def save_page(self, page: PageResult, now: datetime) -> None:
        result = {
            "text": page.text,
            "title": page.title,
            "author": page.author,
            "date": page.date,
            "language": page.language,
        }
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO pages (url, fetched, ok, error, result)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    canonical_url(page.url),
                    _iso(now),
                    int(page.ok),
                    page.error,
                    json.dumps(result, ensure_ascii=False),
                ),
            )

    def save_article(self, article: Article, revision: int) -> None:
        self.save_articles([(article, revision)])

    def save_articles(self, articles: Iterable[tuple[Article, int]]) -> None:
        """Save articles (each with its entry's revision) in one transaction: a commit costs
        several WAL page writes, and a checkpoint's fsync every thousand of them."""
        rows = [
            (
                article.entry_id,
                revision,
                article.url,
                article.title,
                article.text,
                article.author,
                _iso(article.published),
                article.language,
                article.quality,
            )
            for article, revision in articles
        ]
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO articles (entry_id, revision, url, title, text, author,"
                " published, language, quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def articles_between(self, start: datetime, end: datetime) -> list[tuple[Entry, Article]]:
        """Entries published in ``(start, end]`` with their article (a bare one if none yet)."""
        rows = self._db.execute(
            f"SELECT {self._ENTRY_COLUMNS}, a.url, a.title, a.text, a.author, a.language,"
            " a.quality FROM entries e LEFT JOIN articles a ON a.entry_id = e.id"
            " WHERE e.published > ? AND e.published <= ? ORDER BY e.published, e.id",
            (_iso(start), _iso(end)),
        ).fetchall()
        out: list[tuple[Entry, Article]] = []
        for row in rows:
            entry = self._entry(row)
            quality: Quality = row[16] if row[16] else "failed"
            article = Article(
                entry_id=entry.id,
                url=row[11] if row[13] is not None else entry.link,
                title=row[12] or entry.title,
                text=row[13] or "",
                author=row[14] or entry.author,
                published=entry.published,
                language=row[15],
                quality=quality,
            )
            out.append((entry, article))
        return out

    # --- entities (the tag stage's output) ----------------------------------------------------

    def tagged(self, entry_ids: Sequence[str]) -> dict[str, tuple[str, str, Entities]]:
        """Entry id -> (tagger version, input digest, entities) for those of ``entry_ids``
        that were ever tagged."""
        out: dict[str, tuple[str, str, Entities]] = {}
        for start in range(0, len(entry_ids), 500):  # under SQLite's bound-variable limit
            chunk = list(entry_ids[start : start + 500])
            for row in self._db.execute(
                "SELECT entry_id, tagger, input, data FROM entities"
                f" WHERE entry_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                out[row[0]] = (row[1], row[2], Entities.from_dict(json.loads(row[3])))
        return out

    def save_entities(self, rows: Iterable[tuple[str, str, str, Entities]]) -> None:
        """Store (entry id, tagger version, input digest, entities) rows in one transaction."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO entities (entry_id, tagger, input, data)"
                " VALUES (?, ?, ?, ?)",
                (
                    (entry, tagger, digest, json.dumps(entities.to_dict(), ensure_ascii=False))
                    for entry, tagger, digest, entities in rows
                ),
            )

    def entities_between(self, start: datetime, end: datetime) -> list[tuple[Entry, Entities]]:
        """The stored entities of entries published in ``(start, end]`` (untagged ones left
        out), oldest first."""
        rows = self._db.execute(
            f"SELECT {self._ENTRY_COLUMNS}, n.data FROM entries e JOIN entities n"
            " ON n.entry_id = e.id WHERE e.published > ? AND e.published <= ?"
            " ORDER BY e.published, e.id",
            (_iso(start), _iso(end)),
        ).fetchall()
        return [(self._entry(row), Entities.from_dict(json.loads(row[11]))) for row in rows]

    def revision_count(self, entry_id: str) -> int:
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM revisions WHERE entry_id = ?", (entry_id,)
            ).fetchone()[0]
        )

    # --- deliveries --------------------------------------------------------------------------

    def delivery(self, date: str, recipient: str, channel: str) -> Delivery | None:
        """The recorded delivery of ``date``'s briefing to ``recipient``, if any."""
        row = self._db.execute(
            "SELECT date, recipient, channel, status, at, stories, detail FROM deliveries"
            " WHERE date = ? AND recipient = ? AND channel = ?",
            (date, recipient.lower(), channel),
        ).fetchone()
        return _delivery(row) if row else None

    def deliveries(self, date: str) -> list[Delivery]:
        rows = self._db.execute(
            "SELECT date, recipient, channel, status, at, stories, detail FROM deliveries"
            " WHERE date = ? ORDER BY recipient, channel",
            (date,),
        ).fetchall()
        return [_delivery(row) for row in rows]

    def record_delivery(
        self,
        date: str,
        recipient: str,
        channel: str,
        *,
        status: str,
        now: datetime,
        stories: int,
        detail: str | None = None,
    ) -> None:
        """Record (or, after a forced resend, replace) one delivery, committed at once."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO deliveries (date, recipient, channel, status, at,"
                " stories, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (date, recipient.lower(), channel, status, _iso(now), stories, detail),
            )

    # --- review actions ------------------------------------------------------------------------

    _ACTION_COLUMNS = "seq, date, action, data, by, at, undone_by, undone_at"

    def add_review_action(
        self, date: str, action: str, data: str, *, by: str, now: datetime
    ) -> StoredAction:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO review_actions (date, action, data, by, at) VALUES (?, ?, ?, ?, ?)",
                (date, action, data, by, _iso(now)),
            )
            row = db.execute(
                f"SELECT {self._ACTION_COLUMNS} FROM review_actions WHERE seq = ?",
                (cursor.lastrowid,),
            ).fetchone()
        return _stored_action(row)

    def review_actions(self, date: str, *, undone: bool = False) -> list[StoredAction]:
        """The day's actions in order; the undone ones too with ``undone``."""
        rows = self._db.execute(
            f"SELECT {self._ACTION_COLUMNS} FROM review_actions WHERE date = ?"
            + ("" if undone else " AND undone_at IS NULL")
            + " ORDER BY seq",
            (date,),
        ).fetchall()
        return [_stored_action(row) for row in rows]

    def undo_review_action(self, date: str, *, by: str, now: datetime) -> StoredAction | None:
        """Mark the day's last action in force undone; return it (None: nothing to undo)."""
        with self._tx() as db:
            row = db.execute(
                f"SELECT {self._ACTION_COLUMNS} FROM review_actions"
                " WHERE date = ? AND undone_at IS NULL ORDER BY seq DESC LIMIT 1",
                (date,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE review_actions SET undone_by = ?, undone_at = ? WHERE seq = ?",
                (by, _iso(now), row[0]),
            )
        return _stored_action(row)

    def integrity_ok(self) -> bool:
        return bool(self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
