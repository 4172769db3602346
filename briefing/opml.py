"""OPML in and out: the feed lists of feed readers (Feedly, Inoreader, NetNewsWire...) <-> the
config's ``feeds:``.

In (``import_opml``): an OPML file and the config file. Every ``<outline>`` with an ``xmlUrl``
is a feed (name from ``title``, else ``text``, else the URL's host); the outlines it is nested
in, and its own ``category`` attribute, give its ``tags`` -- except the tags that carry trust
(``TRUST_TAGS``: a KEV or advisory catalogue, an aggregator), which stay the operator's decision
in the config. A feed whose URL the config (or an earlier outline) already has is skipped; a URL
that is not http(s) is refused; one whose host is an IP address in any spelling, or a name that
is local by nature (``localhost``, a single label, ``.internal``, metadata names) is skipped with
a warning unless ``allow_private``: a file from elsewhere must not point the poller into the
operator's network. The new feeds
are inserted as new lines after the last item of the config's ``feeds:`` list, in its
indentation: not one byte of the existing text changes, comments and layout included. Out: the
new config text and a report (added, skipped, refused). Nothing is written when the OPML is
malformed or the result would not load as a config.

Out (``export_opml``): the configured feeds as OPML 2.0, nested by each feed's first tag, every
tag also in the ``category`` attribute, so an import gives the same tags back.

The OPML file is untrusted: it is parsed without DTDs, entities or network access.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from lxml import etree

from briefing.config import Config, FeedConfig, load_config
from briefing.errors import ConfigError
from briefing.ingest.netguard import METADATA_NAMES, normalise_host, parse_ip
from briefing.stories.catalogue import CATALOGUE_TAGS

_NAME_MAX = 200  # FeedConfig.name's limit
_SPACE = re.compile(r"\s+")
# Tags that change what the briefing asserts about a feed's items (exploited, in KEV, a
# catalogue line, an aggregator's outlets as voices): a shared OPML file must not set them.
TRUST_TAGS = CATALOGUE_TAGS | {"aggregator"}
# Name suffixes that never lead to the public internet (RFC 6761, RFC 8375, common intranets).
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa")


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
    repeated: list[OpmlFeed] = field(default_factory=list)  # in the OPML twice: tags merged
    private: list[OpmlFeed] = field(default_factory=list)  # a non-public or numeric host
    untrusted: list[tuple[OpmlFeed, tuple[str, ...]]] = field(default_factory=list)  # tags dropped

    def lines(self) -> list[str]:
        summary = (
            f"added {len(self.added)}, skipped {len(self.skipped)} already configured, "
            f"refused {len(self.refused)}"
        )
        if self.repeated:
            summary += f", merged {len(self.repeated)} listed twice"
        if self.private:
            summary += f", skipped {len(self.private)} with a non-public or numeric host"
        out = [summary]
        out += [f"  added    {f.name}  {f.url}" for f in self.added]
        out += [f"  skipped  {f.name}  {f.url}  (already configured)" for f in self.skipped]
        out += [f"  refused  {f.name}  {f.url!r}  (not an http(s) URL)" for f in self.refused]
        out += [f"  merged   {f.name}  {f.url}  (listed twice)" for f in self.repeated]
        out += [
            f"  warning: skipped  {f.name}  {f.url!r}  (a non-public or numeric host; "
            "--allow-private imports it)"
            for f in self.private
        ]
        out += [
            f"  warning: not imported the tags {', '.join(tags)} of {f.name}  (tags that "
            "carry trust are set in the config, not taken from a file)"
            for f, tags in self.untrusted
        ]
        return out


def _clean(text: str | None) -> str:
    # Feed titles are third-party text: one line, no control characters, bounded.
    text = "".join(ch if ch.isprintable() else " " for ch in text or "")
    return _SPACE.sub(" ", text).strip()[:_NAME_MAX].strip()


def _tag(text: str) -> str:
    return re.sub(r"[^\w+.-]+", "-", _clean(text).lower()).strip("-")


def _is_http(url: str) -> bool:
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def is_private_url(url: str) -> bool:
    """Whether an http(s) URL's host is an IP address in any spelling (``127.0.0.1``,
    ``2130706433``, ``[::1]``) or a name that is local by nature. Decided without resolving:
    an import makes no network request."""
    host = urlsplit(url).hostname or ""
    if parse_ip(host) is not None:
        return True
    name = normalise_host(host)
    return (
        name in METADATA_NAMES
        or name == "localhost"
        or "." not in name
        or name.endswith(_LOCAL_SUFFIXES)
    )


def url_key(url: str) -> str:
    """The form two feed URLs are compared in: http and https alike (one feed served both
    ways), host case-folded, default port, fragment and a trailing slash dropped
    (``HTTPS://Example.org/feed/`` is ``//example.org/feed``)."""
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
    return f"//{netloc}{path}{query}"


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


def _unique_name(name: str, url: str, taken: set[str], numbers: dict[str, int]) -> str:
    """The feed's name, made unique among the config's names (they key the store): the name,
    else "name (host)", else "name (2)", "name (3)"... ``numbers`` remembers where each name's
    count stands, so 8,000 outlines of one name cost 8,000 steps, not 32 million."""
    for candidate in (name, f"{name} ({_host(url)})"[:_NAME_MAX]):
        if candidate.casefold() not in taken:
            taken.add(candidate.casefold())
            return candidate
    base = name[: _NAME_MAX - 12]
    number = numbers.get(base.casefold(), 2)
    while (candidate := f"{base} ({number})").casefold() in taken:
        number += 1
    numbers[base.casefold()] = number + 1
    taken.add(candidate.casefold())
    return candidate


def plan_import(
    feeds: list[OpmlFeed], configured: list[tuple[str, str]], *, allow_private: bool = False
) -> ImportReport:
    """Which OPML feeds to add, skip and refuse against the configured (name, url) pairs. A
    feed a reader lists in two folders is added once, with the tags of both; trust tags are
    dropped, and feeds on a non-public or numeric host skipped unless ``allow_private``."""
    known = {url_key(url) for _, url in configured}
    taken = {name.casefold() for name, _ in configured}
    numbers: dict[str, int] = {}
    report = ImportReport()
    added: dict[str, int] = {}  # url key -> index in report.added
    for feed in feeds:
        key = url_key(feed.url)
        dropped = tuple(tag for tag in feed.tags if tag in TRUST_TAGS)
        if dropped:
            report.untrusted.append((feed, dropped))
            feed = OpmlFeed(feed.name, feed.url, tuple(t for t in feed.tags if t not in dropped))
        if not _is_http(feed.url):
            report.refused.append(feed)
        elif not allow_private and is_private_url(feed.url):
            report.private.append(feed)
        elif key in added:
            first = report.added[added[key]]
            tags = tuple(dict.fromkeys((*first.tags, *feed.tags)))
            report.added[added[key]] = OpmlFeed(first.name, first.url, tags)
            report.repeated.append(feed)
        elif key in known:
            report.skipped.append(feed)
        else:
            added[key] = len(report.added)
            name = _unique_name(feed.name, feed.url, taken, numbers)
            report.added.append(OpmlFeed(name, feed.url, feed.tags))
    return report


def _scalar(value: str) -> str:
    """A YAML scalar for one line of text: plain when that reads back the same, else quoted."""
    dumped = yaml.safe_dump(value, allow_unicode=True, width=1 << 20)
    return dumped.removesuffix("\n").removesuffix("\n...")


def _entries(feeds: list[OpmlFeed], dash: int, key: int, newline: str) -> str:
    lines = []
    dash_gap = " " * max(1, key - dash - 1)  # "- name" or "-   name", as the list has it
    for feed in feeds:
        lines.append(f"{' ' * dash}-{dash_gap}name: {_scalar(feed.name)}")
        lines.append(f"{' ' * key}url: {_scalar(feed.url)}")
        if feed.tags:
            tags = yaml.safe_dump(list(feed.tags), default_flow_style=True, allow_unicode=True)
            lines.append(f"{' ' * key}tags: {tags.strip()}")
    return "".join(line + newline for line in lines)


def _last_mark(node: yaml.Node) -> yaml.Mark:
    """Where the text of ``node`` really ends. A block collection's own end mark lies at the
    next token, past any comments that follow it, so descend to its last scalar instead."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _last_mark(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _last_mark(node.value[-1])
    return node.end_mark


def _line_end(text: str, mark: yaml.Mark) -> int:
    """The offset just past the line ``mark`` is on (a mark at a line's start is that line)."""
    if mark.column == 0:
        return mark.index
    end = text.find("\n", mark.index)
    return len(text) if end < 0 else end + 1


def add_feeds(text: str, feeds: list[OpmlFeed], origin: str = "config") -> str:
    """``text`` (a config file) with ``feeds`` inserted after the last item of its ``feeds:``
    list. The new lines copy the list's indentation and line endings; not one byte of the
    existing text changes, comments and a closing comment after the list included."""
    newline = "\r\n" if "\r\n" in text else "\n"
    root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    if root is None:
        return text + f"feeds:{newline}" + _entries(feeds, 2, 4, newline)
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{origin}:1: (top level): must be a mapping with a 'feeds:' list")
    found = [(k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "feeds"]
    if not found:
        prefix = text if text.endswith("\n") else text + newline
        return prefix + f"feeds:{newline}" + _entries(feeds, 2, 4, newline)
    key, seq = found[-1]
    if isinstance(seq, yaml.SequenceNode) and not seq.flow_style and seq.value:
        dash = seq.start_mark.column
        first = seq.value[0]
        indent = first.start_mark.column if isinstance(first, yaml.MappingNode) else dash + 2
        at = _line_end(text, _last_mark(seq))
        before = text[:at] if text[:at].endswith("\n") else text[:at] + newline
        return before + _entries(feeds, dash, indent, newline) + text[at:]
    if isinstance(seq, yaml.SequenceNode) and seq.value:
        line = seq.start_mark.line + 1
        raise ConfigError(
            f"{origin}:{line}: feeds: a [flow, list]; write it as a block list to import into it"
        )
    # "feeds:" with nothing, "[]" or "~" after it: that goes, the list starts on the next line.
    at = _line_end(text, seq.end_mark)
    head = text[: seq.start_mark.index].rstrip(" ") + text[seq.end_mark.index : at]
    head = head if head.endswith("\n") else head + newline
    column = key.start_mark.column
    return head + _entries(feeds, column + 2, column + 4, newline) + text[at:]


def import_opml(
    opml_path: Path, config_path: Path, *, allow_private: bool = False
) -> tuple[str, ImportReport]:
    """The config text with the OPML's new feeds added, and what was added, skipped, refused.

    The config must load (or not exist yet: then it will hold just the feeds); the result is
    checked to load as a config too before anyone writes it."""
    try:
        data = opml_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{opml_path}: cannot read: {exc.strerror or exc}") from None
    feeds = parse_opml(data, str(opml_path))
    text, configured, broken = "", [], None
    if config_path.exists():
        try:
            configured = [(f.name, f.url) for f in load_config(config_path).feeds]
        except ConfigError as exc:
            # A config that does not load yet (``feeds: []``, a new file) may once the feeds
            # are in; if the result does not load either, this is the error to show.
            broken = exc
        text = config_path.read_text(encoding="utf-8")
    report = plan_import(feeds, configured, allow_private=allow_private)
    if not report.added:
        if broken:
            raise broken
        return text, report
    new_text = add_feeds(text, report.added, str(config_path))
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / config_path.name
        trial.write_text(new_text, encoding="utf-8")
        try:
            load_config(trial)  # the very check every command makes
        except ConfigError as exc:
            raise broken or ConfigError(str(exc).replace(str(trial), str(config_path))) from None
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
