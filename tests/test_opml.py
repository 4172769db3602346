"""feeds import / feeds export: a feed reader's OPML into the config (comments and layout kept,
duplicates skipped, non-http refused, malformed OPML one line and exit 2) and back out."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from click.testing import CliRunner

from briefing.cli import cli
from briefing.config import load_config

OPML = Path(__file__).parent / "fixtures" / "opml" / "reader-export.opml"

CONFIG = """\
# Our SOC's feeds. Keep this list short: every feed costs a morning read.
title: ACME SOC morning briefing
timezone: Europe/Amsterdam   # the SOC's zone
tlp: TLP:AMBER
feeds:
  # the one news site everybody reads
  - name: Harbor Security Digest
    url: https://harbor-digest.example.org/feed.xml
    tags: [news]
  - name: "CISA Cybersecurity Advisories"
    url: https://www.cisa.gov/cybersecurity-advisories/all.xml
    tags: [government]
    weight: 1.2   # advisories first

# end of the list
"""


def _config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _import(config: Path, opml: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["feeds", "import", "-c", str(config), str(opml), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_import_adds_new_feeds_and_keeps_the_config_as_it_was(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, _ = _import(config, OPML)
    assert code == 0, out
    assert out.splitlines()[0] == "added 10, skipped 2 already configured, refused 2"
    assert "refused  Local file  'file:///etc/passwd'" in out
    assert "refused  A podcast over feed://" in out
    # the same URL over http, in capitals, with a trailing slash
    assert "skipped  Harbor again, under another folder" in out
    text = config.read_text(encoding="utf-8")
    # not one old byte changed: the new lines sit right after the last feed, before the
    # closing comment, in the list's own indentation
    head, tail = CONFIG.split("\n\n# end of the list")
    assert text.startswith(head + "\n  - name: The Patch Wire\n    url: https://patchwire")
    assert text.endswith("\n\n# end of the list" + tail)
    assert text.count("\n  - name:") == 12 and text.count("\n    url:") == 12
    loaded = load_config(config)
    feeds = {f.name: f for f in loaded.feeds}
    assert len(feeds) == 12 and feeds["CISA Cybersecurity Advisories"].weight == 1.2
    # nested folders and the category attribute become tags
    assert feeds["Northgate Labs"].tags == ("vendors", "research-labs", "apt", "malware")
    # "kev" is a trust tag: the operator sets it in the config, a file never does (#26)
    assert feeds["Known Exploited (KEV)"].tags == ("government",)
    assert feeds["Meridian CERT Notes"].tags == ()
    assert feeds["Eastwind Research"].url == "https://eastwind.example/research/atom.xml"
    assert feeds["Daily Exploit & Friends"].tags == ("security-news",)
    assert "untitled-blog.example.org" in feeds  # no title: named by its host
    # two outlets of one name stay two feeds with two names (names key the store)
    assert feeds["The Patch Wire (patchwire-mirror.example.org)"].tags == ("odds-and-ends",)

    before = config.read_bytes()
    code, out, _ = _import(config, OPML)
    assert code == 0 and out.startswith("added 0, skipped 12")
    assert config.read_bytes() == before


def test_print_writes_the_config_to_stdout_and_changes_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, err = _import(config, OPML, "--print")
    assert code == 0
    assert config.read_text(encoding="utf-8") == CONFIG
    assert err.startswith("added 10,")
    printed = tmp_path / "printed.yaml"  # the printed text is itself a config that loads
    printed.write_text(out, encoding="utf-8")
    assert len(load_config(printed).feeds) == 12


def test_a_reader_export_of_fifty_feeds(tmp_path: Path) -> None:
    """Nested categories, 50 feeds, two non-http entries, one feed the config already has."""
    outlines = []
    for folder in range(5):
        inner = "".join(
            f'<outline type="rss" text="Blog {folder}-{n}" title="Blog {folder}-{n}" '
            f'xmlUrl="https://blog{n}.folder{folder}.example/feed"/>'
            for n in range(8)
        )
        outlines.append(
            f'<outline text="Folder {folder}"><outline text="Sub {folder}">{inner}</outline>'
            f'<outline type="rss" text="Top {folder}" xmlUrl="https://top{folder}.example/rss"/>'
            "</outline>"
        )
    outlines += [f'<outline text="Loose {n}" xmlUrl="https://loose{n}.example/"/>' for n in (1, 2)]
    outlines.append('<outline type="rss" text="Mail" xmlUrl="mailto:feeds@example.org"/>')
    outlines.append('<outline type="rss" text="Gopher" xmlUrl="gopher://old.example/1"/>')
    outlines.append(
        '<outline type="rss" text="Harbor" xmlUrl="https://harbor-digest.example.org/feed.xml"/>'
    )
    opml = tmp_path / "export.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body>'
        + "".join(outlines)
        + "</body></opml>",
        encoding="utf-8",
    )
    assert opml.read_text().count("xmlUrl=") == 50
    config = _config(tmp_path)
    code, out, _ = _import(config, opml)
    assert code == 0
    assert out.splitlines()[0] == "added 47, skipped 1 already configured, refused 2"
    loaded = load_config(config)
    assert len(loaded.feeds) == 2 + 47
    blog = next(f for f in loaded.feeds if f.name == "Blog 3-4")
    assert blog.tags == ("folder-3", "sub-3")
    assert "# end of the list" in config.read_text(encoding="utf-8")


def test_malformed_opml_is_one_line_exit_2_and_the_config_untouched(tmp_path: Path) -> None:
    config = _config(tmp_path)
    cases = {
        "broken.opml": '<opml version="2.0"><body><outline xmlUrl="https://a.example/f">'
        "</body></opml>",
        "html.opml": "<html><body><p>not a feed list</p></body></html>",
        "nobody.opml": '<opml version="2.0"><head/></opml>',
        # an external entity would read a local file: refused, never resolved
        "entity.opml": '<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY e SYSTEM '
        '"file:///etc/hostname">]>\n<opml version="2.0"><body>'
        '<outline text="&e;" xmlUrl="https://a.example/f"/></body></opml>',
        "empty.opml": "",
    }
    for name, body in cases.items():
        opml = tmp_path / name
        opml.write_text(body, encoding="utf-8")
        code, out, err = _import(config, opml)
        assert code == 2, (name, out, err)
        assert out == "" and len(err.strip().splitlines()) == 1, (name, err)
        assert err.startswith(f"{opml}:") and "not valid OPML" in err, err
        assert config.read_text(encoding="utf-8") == CONFIG
    code, _, err = _import(config, tmp_path / "missing.opml")
    assert code == 2 and "cannot read" in err


def test_export_then_import_gives_the_same_feeds(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert _import(config, OPML)[0] == 0
    result = CliRunner().invoke(cli, ["feeds", "export", "-c", str(config)])
    assert result.exit_code == 0
    assert result.stdout.startswith("<?xml") and "<title>ACME SOC morning briefing</title>" in (
        result.stdout
    )
    opml = tmp_path / "out.opml"
    opml.write_text(result.stdout, encoding="utf-8")
    fresh = tmp_path / "fresh" / "feeds.yaml"
    fresh.parent.mkdir()
    code, out, _ = _import(fresh, opml)  # no config yet: one holding just the feeds
    assert code == 0, out
    original = [(f.name, f.url, f.tags) for f in load_config(config).feeds]
    again = [(f.name, f.url, f.tags) for f in load_config(fresh).feeds]
    assert sorted(again) == sorted(original)


MIXED = """\
title: ACME SOC morning briefing
schedule:
  poll_every: 30m
  build_at: ["07:00"]                 # or a cron expression
email:
  smtp_host: smtp.example.org
  from: "Threat Briefing <briefing@example.org>"
  recipients:
    - address: soc@example.org        # the whole briefing
feeds:
-   name:   BleepingComputer
    url: 'https://www.bleepingcomputer.com/feed/'
    tags:
    - news
# - name: a feed switched off for now
#   url: https://off.example/feed
webhooks:
  - {name: soc-slack, url_env: BRIEFING_SLACK_WEBHOOK, format: slack}
"""


def test_any_layout_only_gains_lines(tmp_path: Path) -> None:
    import difflib

    config = _config(tmp_path, MIXED)
    code, out, _ = _import(config, OPML)
    assert code == 0, out
    text = config.read_text(encoding="utf-8")
    changes = [
        line
        for line in difflib.unified_diff(MIXED.splitlines(), text.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changes and all(line.startswith("+") for line in changes)
    assert "+-   name: The Patch Wire" in changes  # the list's own "-   " indentation
    assert text.index("name: Meridian CERT Notes") < text.index("# - name: a feed switched off")
    assert len(load_config(config).feeds) == 1 + 11


def test_a_starter_config_without_feeds_takes_them(tmp_path: Path) -> None:
    config = _config(tmp_path, "title: New desk  # set up today\nfeeds: []\n")
    code, _out, err = _import(config, OPML)
    assert code == 0, err
    assert config.read_text(encoding="utf-8").startswith("title: New desk  # set up today\n")
    assert len(load_config(config).feeds) == 11
    # still broken after an import that adds nothing: the config's own error, exit 2
    empty = tmp_path / "nothing.opml"
    empty.write_text('<opml version="2.0"><body/></opml>', encoding="utf-8")
    broken = _config(tmp_path, "feeds: []\n")
    code, _, err = _import(broken, empty)
    assert code == 2 and "feeds" in err and broken.read_text(encoding="utf-8") == "feeds: []\n"


def test_hostile_titles_and_urls_round_trip_exactly(tmp_path: Path) -> None:
    names = [
        "yes",
        "- looks: like yaml # not a comment",
        "'quoted' \"twice\" & <b>bold</b>",
        "Ünïcode — “curly” 🛰",
        "line\nbreak\tand   spaces",
    ]
    outlines = "".join(
        f'<outline type="rss" text={quoteattr(n)} xmlUrl="https://feed{i}.example/rss?a=1&amp;b=2#x"/>'
        for i, n in enumerate(names)
    )
    opml = tmp_path / "hostile.opml"
    opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
    config = _config(tmp_path)
    code, _, err = _import(config, opml)
    assert code == 0, err
    feeds = {f.url: f.name for f in load_config(config).feeds}
    for i, name in enumerate(names[:4]):
        assert feeds[f"https://feed{i}.example/rss?a=1&b=2#x"] == name
    assert feeds["https://feed4.example/rss?a=1&b=2#x"] == "line break and spaces"


def test_a_feed_in_two_folders_is_added_once_with_both_tags(tmp_path: Path) -> None:
    opml = tmp_path / "two.opml"
    opml.write_text(
        '<opml version="1.0"><body>'
        '<outline text="APT"><outline text="Labs" xmlUrl="https://labs.example/rss"/></outline>'
        '<outline text="Malware"><outline text="Labs" xmlUrl="https://labs.example/rss/"/>'
        "</outline></body></opml>",
        encoding="utf-8",
    )
    config = _config(tmp_path)
    code, out, _ = _import(config, opml)
    assert code == 0
    assert out.splitlines()[0] == (
        "added 1, skipped 0 already configured, refused 0, merged 1 listed twice"
    )
    labs = next(f for f in load_config(config).feeds if f.name == "Labs")
    assert labs.tags == ("apt", "malware")


def test_same_titles_get_names_of_their_own(tmp_path: Path) -> None:
    opml = tmp_path / "same.opml"
    outlines = "".join(
        f'<outline text="Harbor Security Digest" xmlUrl="https://blog.example/{n}/rss"/>'
        for n in range(3)
    )
    opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
    config = _config(tmp_path)  # already has a "Harbor Security Digest"
    assert _import(config, opml)[0] == 0
    names = [f.name for f in load_config(config).feeds]
    assert names[2:] == [
        "Harbor Security Digest (blog.example)",
        "Harbor Security Digest (2)",
        "Harbor Security Digest (3)",
    ]


def _opml(tmp_path: Path, outlines: str) -> Path:
    opml = tmp_path / "shared.opml"
    opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
    return opml


INTERNAL = {
    "Metadata": "http://169.254.169.254/latest/meta-data/",
    "Loopback": "http://127.0.0.1:8080/feed.xml",
    "Decimal": "http://2130706433:22/",
    "Mapped": "http://[::ffff:10.0.0.1]/rss",
    "Localhost": "http://localhost:9200/_cat/indices",
    "Intranet": "https://intranet/feed",
    "Internal name": "http://build.corp.internal/rss",
    "Google metadata": "http://metadata.google.internal/computeMetadata/v1/",
}


def test_internal_and_numeric_hosts_are_skipped_with_a_warning(tmp_path: Path) -> None:
    """#26 item 7: a shared OPML file must not point the poller into the operator's network."""
    outlines = "".join(
        f"<outline text={quoteattr(name)} xmlUrl={quoteattr(url)}/>"
        for name, url in {**INTERNAL, "Public": "https://news.example.org/rss"}.items()
    )
    opml = _opml(tmp_path, outlines)
    config = _config(tmp_path)
    code, out, _ = _import(config, opml)
    assert code == 0, out
    urls = [f.url for f in load_config(config).feeds]
    assert "https://news.example.org/rss" in urls
    assert not set(INTERNAL.values()) & set(urls)
    assert f"skipped {len(INTERNAL)} with a non-public or numeric host" in out
    for url in INTERNAL.values():
        assert f"warning: skipped  {next(k for k, v in INTERNAL.items() if v == url)}" in out
        assert repr(url) in out, url
    # The operator's own decision: --allow-private imports them.
    (tmp_path / "allowed").mkdir()
    allowed = _config(tmp_path / "allowed")
    code, out, _ = _import(allowed, opml, "--allow-private")
    assert code == 0, out
    assert set(INTERNAL.values()) <= {f.url for f in load_config(allowed).feeds}


def test_trust_tags_are_never_taken_from_the_file(tmp_path: Path) -> None:
    """#26 item 7: "kev", "exploited", "advisories", "catalogue" and "aggregator" change what
    the briefing asserts about a feed's items; only the config sets them."""
    outlines = (
        '<outline text="KEV"><outline text="Chatter" category="kev,/exploited/news"'
        ' xmlUrl="https://chatter.example/rss"/></outline>'
        '<outline text="Advisories"><outline text="Bundle" category="aggregator,catalogue"'
        ' xmlUrl="https://bundle.example/rss"/></outline>'
    )
    config = _config(tmp_path)
    code, out, _ = _import(config, _opml(tmp_path, outlines))
    assert code == 0, out
    tags = {f.name: f.tags for f in load_config(config).feeds}
    assert tags["Chatter"] == ("news",)
    assert tags["Bundle"] == ()
    assert "not imported the tags kev, exploited of Chatter" in out
    assert "not imported the tags advisories, aggregator, catalogue of Bundle" in out
    assert all(not f.aggregator for f in load_config(config).feeds)


def test_many_outlines_of_one_name_take_a_few_lookups_each() -> None:
    """8,000 outlines of one name took 25 s: each one counted up from "(2)" again."""
    from briefing.opml import _unique_name

    lookups = 0

    class Counting(set[str]):
        def __contains__(self, key: object) -> bool:
            nonlocal lookups
            lookups += 1
            return super().__contains__(key)

    taken, numbers = Counting(), dict[str, int]()
    names = [_unique_name("Same", "https://h.example/rss", taken, numbers) for _ in range(8_000)]
    assert len(set(names)) == 8_000
    assert names[:3] == ["Same", "Same (h.example)", "Same (2)"] and names[-1] == "Same (7999)"
    assert lookups < 4 * 8_000, lookups
