"""What the output folder publishes: a real ``briefing run --send`` (fixture site, aiosmtpd on
loopback), then every file under the output folder read back. The folder is meant to be served
as it is by any static server, dot-files included, so nothing in it may hold a recipient's
address, and no SQLite file may sit in it (#26 item 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from briefing.cli import cli
from briefing.store import STORE_ID_FILE, Store, default_path
from tests.conftest import NOW, write_config
from tests.test_deliver import Inbox, email_yaml, inbox

__all__ = ["inbox"]  # the SMTP fixture, used by name

RECIPIENTS = (b"soc@example.org", b"ciso@example.org")


def test_no_file_of_the_published_tree_holds_a_recipient(
    tmp_path: Path, inbox: Inbox, site: Any
) -> None:
    config = write_config(tmp_path, site.base_url, extra=email_yaml(inbox))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", "-c", str(config), "-o", str(out), "--now", NOW, "--send"]
    )
    assert result.exit_code == 0, result.output
    assert len(inbox.messages) == 2
    # Read first: looking the store up (default_path) would move a store found in the folder.
    published = [path for path in out.rglob("*") if path.is_file()]
    assert any(path.name == "briefing.json" for path in published)
    for path in published:
        data = path.read_bytes()
        assert not data.startswith(b"SQLite format 3"), path
        for address in RECIPIENTS:
            assert address not in data.lower(), (path, address)
    # The deliveries were recorded, in a store outside the published folder that the folder
    # names by a random id only.
    assert len((out / STORE_ID_FILE).read_text().strip()) == 32
    assert out not in default_path(out).parents
    with Store.open(default_path(out)) as store:
        assert {d.recipient for d in store.deliveries("2026-03-10")} >= {"soc@example.org"}
