"""The bundled sample "internet" for ``briefing demo``: three feeds and their article pages.

Serve :data:`SITE_DIR` with :class:`briefing.localsite.LocalSite`; the feeds are at

- ``/news/feed.xml``  — RSS 2.0, a security-news outlet ("The Patch Wire")
- ``/labs/atom.xml``  — Atom, a vendor research blog ("Northgate Labs")
- ``/cert/advisories.xml`` — RSS 2.0, a government CERT's advisories ("National Cyber Response
  Centre")

Every item is dated between 2026-03-09T00:00Z and 2026-03-10T06:00Z except one older item, so
the demo runs with ``--now 2026-03-10T07:00:00Z`` and a 24 h window. All text is fictional and
written for this project; IP addresses and domains are documentation ranges and example names.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_FEEDS", "DEMO_NOW", "SITE_DIR", "demo_config_text"]

#: The folder holding the demo site's files (feeds carry ``{{BASE}}`` for the server's URL).
SITE_DIR: Path = Path(__file__).resolve().parent / "site"

#: The clock the demo pins with ``--now``: every item but one falls in the 24 h before it.
DEMO_NOW = "2026-03-10T07:00:00Z"

#: (name, path, tags, weight) of each demo feed, relative to the server's base URL.
DEMO_FEEDS: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("The Patch Wire", "/news/feed.xml", ("news",), 1.0),
    ("Northgate Labs", "/labs/atom.xml", ("vendor", "research"), 1.2),
    ("National Cyber Response Centre", "/cert/advisories.xml", ("government", "advisories"), 1.2),
)


def demo_config_text(base_url: str) -> str:
    """A ``feeds.yaml`` for the demo feeds served at ``base_url``."""
    lines = ["title: Demo Threat Briefing", "extract:", "  workers: 1", "feeds:"]
    for name, path, tags, weight in DEMO_FEEDS:
        lines += [
            f"  - name: {name}",
            f"    url: {base_url}{path}",
            f"    tags: [{', '.join(tags)}]",
            f"    weight: {weight}",
        ]
    return "\n".join(lines) + "\n"
