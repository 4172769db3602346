"""feeds import / feeds export: a feed reader's OPML into the config (comments and layout kept,
duplicates skipped, non-http refused, malformed OPML one line and exit 2) and back out."""

from __future__ import annotations

from pathlib import Path

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
    assert "skipped  Harbor again, under another folder" in out  # same URL, other case
    text = config.read_text(encoding="utf-8")
    # the old file is untouched, comments and quoting included; the feeds come after it
    # (ruamel keeps a closing comment with the list item it follows)
    assert text.startswith(CONFIG) and text.count("  - name:") == 12
    loaded = load_config(config)
    feeds = {f.name: f for f in loaded.feeds}
    assert len(feeds) == 12 and feeds["CISA Cybersecurity Advisories"].weight == 1.2
    # nested folders and the category attribute become tags
    assert feeds["Northgate Labs"].tags == ("vendors", "research-labs", "apt", "malware")
    assert feeds["Known Exploited (KEV)"].tags == ("government", "kev")
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
