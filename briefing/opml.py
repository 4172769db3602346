"""OPML in and out: the feed lists of feed readers (Feedly, Inoreader, NetNewsWire...) <-> the
config's ``feeds:``.

In (``import_opml``): an OPML file and the config file. Every ``<outline>`` with an ``xmlUrl``
is a feed (name from ``title``, else ``text``, else the URL's host); the outlines it is nested
in, and its own ``category`` attribute, give its ``tags``. A feed whose URL the config (or an
earlier outline) already has is skipped; a URL that is not http(s) is refused. The new feeds
are appended to the config's ``feeds:`` list with ruamel.yaml's round-trip mode, so the file's
comments, key order and indentation stay as they were. Out: the new config text and a report
(added, skipped, refused). Nothing is written when the OPML is malformed or the result would
not load as a config.

Out (``export_opml``): the configured feeds as OPML 2.0, nested by each feed's first tag, every
tag also in the ``category`` attribute, so an import gives the same tags back.

The OPML file is untrusted: it is parsed without DTDs, entities or network access.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from lxml import etree
from pydantic import ValidationError

from briefing.config import Config, FeedConfig, load_config
from briefing.errors import ConfigError

_NAME_MAX = 200  # FeedConfig.name's limit
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class OpmlFeed:
    name: str
    url: str
    tags: tuple[str, ...]


@dataclass
class ImportReport:
    added: list[OpmlFeed] = field(default_factory=list)
    skipped: list[OpmlFeed] = field(default_factory=list)  # already configured (by URL)
    refused: list[OpmlFeed] = field(default_factory=list)  # not an http(s) URL

    def lines(self) -> list[str]:
        out = [
            f"added {len(self.added)}, skipped {len(self.skipped)} already configured, "
            f"refused {len(self.refused)}"
        ]
        out += [f"  added    {f.name}  {f.url}" for f in self.added]
        out += [f"  skipped  {f.name}  {f.url}  (already configured)" for f in self.skipped]
        out += [f"  refused  {f.name}  {f.url!r}  (not an http(s) URL)" for f in self.refused]
        return out


def _clean(text: str | None) -> str:
    # Feed titles are third-party text: one line, no control characters, bounded.
    text = "".join(ch if ch.isprintable() else " " for ch in text or "")
    return _SPACE.sub(" ", text).strip()[:_NAME_MAX].strip()


def _tag(text: str) -> str:
    return re.sub(r"[^\w+.-]+", "-", _clean(text).lower()).strip("-")


def _is_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def url_key(url: str) -> str:
    """The form two feed URLs are compared in: scheme and host case-folded, default port,
    fragment and a trailing slash dropped (``HTTPS://Example.org/feed/`` is
    ``https://example.org/feed``)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{netloc}{path}{query}"


def parse_opml(data: bytes, origin: str) -> list[OpmlFeed]:
    """Every feed outline of an OPML document, in document order; ``ConfigError`` (one line:
    file, line, problem) when it is not OPML."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        message = re.sub(r",? line \d+, column \d+$", "", _clean(str(exc.msg or exc)))
        raise ConfigError(f"{origin}:{line}: not valid OPML: {message}") from None
    where = f"{origin}:{root.sourceline or 1}"
    if not isinstance(root.tag, str) or etree.QName(root).localname != "opml":
        raise ConfigError(f"{where}: not valid OPML: the root element is not <opml>")
    body = next((el for el in root if isinstance(el.tag, str) and el.tag == "body"), None)
    if body is None:
        raise ConfigError(f"{where}: not valid OPML: no <body>")
    feeds: list[OpmlFeed] = []

    def walk(element: Any, folders: tuple[str, ...]) -> None:
        for outline in element:
            if not isinstance(outline.tag, str) or outline.tag != "outline":
                continue
            label = _clean(outline.get("title") or outline.get("text"))
            url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
            if url:
                tags = [*folders]
                for category in (outline.get("category") or "").split(","):
                    tags += [part for part in category.split("/") if part.strip()]
                unique = dict.fromkeys(t for t in map(_tag, tags) if t)
                feeds.append(OpmlFeed(label or _host(url), url, tuple(unique)))
            walk(outline, (*folders, label) if label and not url else folders)

    walk(body, ())
    return feeds


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url[:_NAME_MAX]
    except ValueError:
        return url[:_NAME_MAX]


def _unique_name(name: str, url: str, taken: set[str]) -> str:
    """The feed's name, made unique among the config's names (they key the store)."""
    candidates = [name, f"{name} ({_host(url)})"[:_NAME_MAX]]
    candidates += [f"{name[: _NAME_MAX - 6]} ({n})" for n in range(2, 10_000)]
    for candidate in candidates:
        if candidate.casefold() not in taken:
            taken.add(candidate.casefold())
            return candidate
    raise ConfigError(f"too many feeds named {name!r}")  # pragma: no cover - 10,000 duplicates


def plan_import(feeds: list[OpmlFeed], config: Config | None) -> ImportReport:
    """Which OPML feeds to add, skip and refuse against the configured ones."""
    known = {url_key(f.url) for f in config.feeds} if config else set()
    taken = {f.name.casefold() for f in config.feeds} if config else set()
    report = ImportReport()
    for feed in feeds:
        if not _is_http(feed.url):
            report.refused.append(feed)
        elif url_key(feed.url) in known:
            report.skipped.append(feed)
        else:
            known.add(url_key(feed.url))
            name = _unique_name(feed.name, feed.url, taken)
            report.added.append(OpmlFeed(name, feed.url, feed.tags))
    return report


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap the user's long lines
    return rt


def _entry(feed: OpmlFeed) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    entry = CommentedMap(name=feed.name, url=feed.url)
    if feed.tags:
        tags = CommentedSeq(feed.tags)
        tags.fa.set_flow_style()  # "tags: [news, ics]", as the README writes them
        entry["tags"] = tags
    return entry


def add_feeds(text: str, feeds: list[OpmlFeed]) -> str:
    """``text`` (a config file) with ``feeds`` appended to its ``feeds:`` list, everything
    else (comments, order, quoting, indentation) kept."""
    from ruamel.yaml.util import load_yaml_guess_indent

    rt = _round_trip()
    data, indent, offset = None, 2, 2
    if text.strip():
        _, indent, offset = load_yaml_guess_indent(text)
        data = rt.load(text)  # this loader keeps quotes
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    if data.get("feeds") is None:
        from ruamel.yaml.comments import CommentedSeq

        data["feeds"] = CommentedSeq()
    target = data["feeds"]
    if target.fa.flow_style() and feeds:
        target.fa.set_block_style()  # "feeds: []" grows into a block list
    for feed in feeds:
        target.append(_entry(feed))
    offset = offset if offset is not None else 2
    rt.indent(mapping=indent, sequence=max(indent, offset + 2), offset=offset)
    out = io.StringIO()
    rt.dump(data, out)
    return out.getvalue()


def import_opml(opml_path: Path, config_path: Path) -> tuple[str, ImportReport]:
    """The config text with the OPML's new feeds added, and what was added, skipped, refused.

    The config must load (or not exist yet: then it will hold just the feeds); the result is
    checked to load as a config too before anyone writes it."""
    try:
        data = opml_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{opml_path}: cannot read: {exc.strerror or exc}") from None
    feeds = parse_opml(data, str(opml_path))
    exists = config_path.exists()
    config = load_config(config_path) if exists else None
    text = config_path.read_text(encoding="utf-8") if exists else ""
    report = plan_import(feeds, config)
    new_text = add_feeds(text, report.added) if report.added else text
    if report.added:
        try:
            Config.model_validate(yaml.safe_load(new_text))
        except (ValidationError, yaml.YAMLError) as exc:  # nothing is written
            first = _clean(str(exc)).split(" For further information")[0]
            problem = f"the imported feeds would not load: {first}"
            raise ConfigError(f"{config_path}: {problem}") from None
    return new_text, report


def export_opml(config: Config) -> str:
    """The configured feeds as an OPML 2.0 document, grouped by each feed's first tag."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = config.title
    body = etree.SubElement(root, "body")
    folders: dict[str, Any] = {}

    def add(parent: Any, feed: FeedConfig) -> None:
        attrs = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if feed.tags:
            attrs["category"] = ",".join(f"/{tag}" for tag in feed.tags)
        etree.SubElement(parent, "outline", attrs)

    for feed in config.feeds:
        if feed.tags:
            first = feed.tags[0]
            if first not in folders:
                folders[first] = etree.SubElement(body, "outline", text=first, title=first)
            add(folders[first], feed)
        else:
            add(body, feed)
    xml: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return xml.decode("utf-8")
