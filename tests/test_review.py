"""Review before send: actions stored and applied by every build of the day, the CLI, and the
approval gate on delivery. A real day built from the fixture site's outlet feeds, real SQLite,
the PDF read back with pypdf, e-mail to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from pypdf import PdfReader

from briefing.cli import cli
from briefing.config import load_config
from briefing.errors import ConfigError
from briefing.localsite import LocalSite
from briefing.pipeline import store_path
from briefing.review.gate import delivery_gate
from briefing.schedule import Service
from briefing.serialize import from_json, to_json
from briefing.store import Store
from tests.conftest import FIXTURE_SITE, NOW, copy_output, write_config
from tests.test_deliver import Inbox, email_yaml
from tests.test_deliver import _free_port as free_port

DAY = "2026-03-10"


def build_day(folder: Path, extra: str = "", *run: str) -> tuple[Path, Path]:
    """The fixture site's day polled, extracted and built into ``folder/out`` (``run``: more
    options of ``briefing run``): (config, out)."""
    with LocalSite(FIXTURE_SITE) as site:
        config = write_config(folder, site.base_url, extra=extra)
        out = folder / "out"
        args = ["run", "-c", str(config), "-o", str(out), "--now", NOW, *run]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    if run:
        assert "not sent:" in result.output and "review approve" in result.output
    return config, out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_day(tmp_path_factory.mktemp("built"))


@pytest.fixture
def day(built: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the built day (its store included)."""
    config, out = built
    copy_output(out, tmp_path / "out")
    shutil.copy(config, tmp_path / "feeds.yaml")
    return tmp_path / "feeds.yaml", tmp_path / "out"


def review(config: Path, out: Path, *args: str, by: str = "ana") -> Result:
    return CliRunner().invoke(cli, ["review", *args, "-c", str(config), "-o", str(out), "--by", by])


def data(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / DAY / "briefing.json").read_text(encoding="utf-8")))


def pdf_text(out: Path) -> str:
    reader = PdfReader(io.BytesIO((out / DAY / "briefing.pdf").read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def html(out: Path) -> str:
    return (out / DAY / "briefing.html").read_text(encoding="utf-8")


def by_title(out: Path, words: str) -> dict[str, Any]:
    return next(s for s in data(out)["stories"] if words in s["title"])


def test_drop_merge_pin_and_note_show_everywhere_and_survive_a_build(
    day: tuple[Path, Path],
) -> None:
    config, out = day
    before = data(out)
    assert before["review"] == {"approved_at": None, "approved_by": None, "actions": []}
    assert not any(s["edited"] or s["analyst_note"] for s in before["stories"])
    spider = by_title(out, "Scattered Spider")
    play, turla = by_title(out, "Play ransomware"), by_title(out, "Turla")
    akira = by_title(out, "Akira")
    assert "Scattered Spider" in pdf_text(out)

    dropped = review(config, out, "drop", spider["id"])
    assert dropped.exit_code == 0, dropped.output
    assert not any("Scattered Spider" in s["title"] for s in data(out)["stories"])
    assert "Scattered Spider" not in html(out)
    assert "Scattered Spider" not in pdf_text(out)

    merged = review(config, out, "merge", play["id"], turla["id"])
    assert merged.exit_code == 0, merged.output
    stories = data(out)["stories"]
    both = [s for s in stories if "Play ransomware" in s["title"]]
    assert len(both) == 1 and both[0]["edited"] is True
    urls = {src["url"] for src in both[0]["sources"]}
    assert urls == {src["url"] for src in play["sources"] + turla["sources"]}
    assert not any("Turla targets" in s["title"] for s in stories)
    assert len(stories) == len(before["stories"]) - 2

    pinned = review(config, out, "pin", akira["id"])
    assert pinned.exit_code == 0, pinned.output
    assert data(out)["executive_summary"][0] == akira["id"]
    note = "We run the same terminal software in Rotterdam"
    noted = review(config, out, "note", akira["id"], note)
    assert noted.exit_code == 0, noted.output
    assert by_title(out, "Akira")["analyst_note"] == note
    assert note in " ".join(pdf_text(out).split())
    assert note in html(out)
    # What ``archive rebuild`` and ``send`` read back is what was written: the review too.
    assert to_json(from_json(data(out))) == data(out)

    after = (out / DAY / "briefing.json").read_bytes()
    review_block = data(out)["review"]
    assert [a["action"] for a in review_block["actions"]] == ["drop", "merge", "pin", "note"]
    assert {a["by"] for a in review_block["actions"]} == {"ana"}
    assert all(a["status"] == "applied" for a in review_block["actions"])
    # ``briefing build`` again (same store, same clock): the same file, every edit kept.
    again = CliRunner().invoke(cli, ["build", "-c", str(config), "-o", str(out), "--now", NOW])
    assert again.exit_code == 0, again.output
    assert (out / DAY / "briefing.json").read_bytes() == after
    assert note in " ".join(pdf_text(out).split())
    # A retag composes the day anew from the store: edits follow their stories by sources.
    retag = CliRunner().invoke(
        cli, ["archive", "rebuild", "--retag", "-c", str(config), "-o", str(out)]
    )
    assert retag.exit_code == 0, retag.output
    redone = data(out)
    assert redone["executive_summary"][0] == by_title(out, "Akira")["id"]
    assert not any("Scattered Spider" in s["title"] for s in redone["stories"])
    assert len([s for s in redone["stories"] if s["edited"]]) == 2  # the merged one, Akira


def test_unknown_id_is_one_line_and_exit_2(day: tuple[Path, Path]) -> None:
    config, out = day
    before = (out / DAY / "briefing.json").read_bytes()
    for args in (("drop", "nosuchstory"), ("merge", "nosuchstory", "another"), ("pin", "x")):
        result = review(config, out, *args)
        assert result.exit_code == 2
        assert result.output.count("\n") == 1 and "no story" in result.output
    some = data(out)["stories"][0]["id"]
    same = review(config, out, "merge", some, some)
    assert same.exit_code == 2 and "two or more" in same.output
    split = review(config, out, "split", some, "https://elsewhere.example/x")
    assert split.exit_code == 2 and "no source" in split.output
    edit = review(config, out, "edit", some)
    assert edit.exit_code == 2 and "--title or --summary" in edit.output
    assert (out / DAY / "briefing.json").read_bytes() == before
    with Store.open(store_path(load_config(config), out)) as store:
        assert store.review_actions(DAY, undone=True) == []


def test_split_edit_undo_and_the_log(day: tuple[Path, Path]) -> None:
    config, out = day
    cl0p, corvid = by_title(out, "Cl0p"), by_title(out, "Corvid")
    assert review(config, out, "merge", cl0p["id"], corvid["id"]).exit_code == 0
    merged = by_title(out, "Cl0p")
    assert len(merged["sources"]) == 2
    url = corvid["sources"][0]["url"]
    result = review(config, out, "split", merged["id"], url)
    assert result.exit_code == 0, result.output
    # Split back apart: the two stories as they were, ids included.
    assert by_title(out, "Cl0p")["id"] == cl0p["id"]
    assert by_title(out, "Corvid")["id"] == corvid["id"]

    edited = review(config, out, "edit", cl0p["id"], "--title", "Cl0p: bank data stolen")
    assert edited.exit_code == 0, edited.output
    story = by_title(out, "Cl0p: bank data stolen")
    assert story["edited"] and story["summary"] == cl0p["summary"]
    summary = review(config, out, "edit", cl0p["id"], "--summary", "Our own words.")
    assert summary.exit_code == 0, summary.output
    story = by_title(out, "Cl0p: bank data stolen")
    assert story["summary"] == "Our own words." and story["summary_sources"] == []

    undone = review(config, out, "undo", by="bo")
    assert undone.exit_code == 0 and "undid" in undone.output
    assert by_title(out, "Cl0p: bank data stolen")["summary"] == cl0p["summary"]
    log = review(config, out, "log")
    lines = log.output.splitlines()
    assert [line.split()[1] for line in lines] == ["merge", "split", "edit", "edit"]
    assert "undone by bo" in lines[-1] and "by ana" in lines[-1]


def test_an_edit_whose_story_is_gone_is_reported(day: tuple[Path, Path]) -> None:
    config, out = day
    akira = by_title(out, "Akira")
    assert review(config, out, "note", akira["id"], "check DC2").exit_code == 0
    result = review(config, out, "drop", akira["id"])
    assert result.exit_code == 0
    assert "gone" in result.output and "note" in result.output
    actions = data(out)["review"]["actions"]
    assert [(a["action"], a["status"]) for a in actions] == [("note", "gone"), ("drop", "applied")]
    listed = review(config, out, "list")
    assert "gone" in listed.output
    assert "gone" in review(config, out, "log").output
    # What ``archive rebuild`` and ``send`` read back is what was written: review included.
    assert to_json(from_json(data(out))) == data(out)


def test_approval_is_reset_by_a_later_edit(day: tuple[Path, Path]) -> None:
    config, out = day
    approved = review(config, out, "approve", by="lead")
    assert approved.exit_code == 0, approved.output
    block = data(out)["review"]
    assert block["approved_by"] == "lead" and block["approved_at"]
    first = data(out)["stories"][0]["id"]
    assert review(config, out, "pin", first).exit_code == 0
    assert data(out)["review"]["approved_at"] is None
    assert review(config, out, "undo").exit_code == 0
    assert data(out)["review"]["approved_by"] == "lead"
    assert "approved by lead" in review(config, out, "list").output


def test_review_config_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "review:\n  required: true\n  deadline: '7:45pm'\n"
        "feeds:\n  - name: A\n    url: https://a.example/feed\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:3: review.deadline:")
    path.write_text(
        "review:\n  required: true\n  on_deadline: maybe\n"
        "feeds:\n  - name: A\n    url: https://a.example/feed\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:3: review.on_deadline:" in str(caught.value)


# --- approval gates delivery -----------------------------------------------------------------


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox("127.0.0.1", free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def _held_day(folder: Path, inbox: Inbox, on_deadline: str, *run: str) -> tuple[Path, Path]:
    extra = email_yaml(inbox).replace("actors: [apt39]", "actors: [Sandworm]")
    extra += "review:\n  required: true\n  deadline: '07:45'\n"
    extra += f"  on_deadline: {on_deadline}\n"
    return build_day(folder, extra, *run)


def test_send_waits_for_approval_then_mails_once(tmp_path: Path, inbox: Inbox) -> None:
    # ``run --send`` at 08:00 (past the 07:45 deadline, on hold) builds, says why it did not
    # send, and exits 0: a briefing was produced.
    config, out = _held_day(tmp_path, inbox, "hold", "--send")
    assert inbox.messages == []
    args = ["send", "-c", str(config), "-o", str(out)]
    held = CliRunner().invoke(cli, args)
    assert held.exit_code == 1
    assert "held" in held.output and "review approve" in held.output
    assert inbox.messages == []
    assert review(config, out, "approve").exit_code == 0
    sent = CliRunner().invoke(cli, args)
    assert sent.exit_code == 0, sent.output
    assert sorted(r.recipients[0] for r in inbox.messages) == [
        "ciso@example.org",
        "soc@example.org",
    ]
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "already-sent" in again.output
    assert len(inbox.messages) == 2


def test_the_note_reaches_the_mail(tmp_path: Path, inbox: Inbox) -> None:
    config, out = _held_day(tmp_path, inbox, "send")  # the deadline of 2026-03-10 is long past
    akira = by_title(out, "Akira")
    assert review(config, out, "note", akira["id"], "Patch the Rotterdam TOS").exit_code == 0
    sent = CliRunner().invoke(cli, ["send", "-c", str(config), "-o", str(out)])
    assert sent.exit_code == 0, sent.output
    message = inbox.messages[0].message
    text = message.get_body(("plain",))
    body = message.get_body(("html",))
    assert text is not None and body is not None
    assert "Analyst note: Patch the Rotterdam TOS" in text.get_content()
    assert "Patch the Rotterdam TOS" in body.get_content()


def test_the_gate_before_and_after_the_deadline(day: tuple[Path, Path], tmp_path: Path) -> None:
    _config, out = day
    base = "feeds:\n  - name: A\n    url: https://a.example/feed\n"
    path = tmp_path / "gate.yaml"

    def gate(section: str, hour: int, minute: int) -> tuple[bool, str]:
        path.write_text(
            section + "timezone: Europe/Amsterdam\nstore: out/briefing.sqlite3\n" + base
        )
        config = load_config(path)
        now = datetime(2026, 3, 10, hour, minute, tzinfo=UTC)  # 07:45 Amsterdam is 06:45 UTC
        result = delivery_gate(config, out, DAY, now)
        return result.open, result.reason

    assert gate("", 6, 0) == (True, "no review required")
    assert gate("review:\n  required: false\n", 6, 0)[0]
    hold = "review:\n  required: true\n  on_deadline: hold\n"
    send = "review:\n  required: true\n  on_deadline: send\n"
    assert gate(hold, 6, 44)[0] is False and "waiting" in gate(hold, 6, 44)[1]
    assert gate(hold, 6, 45)[0] is False and "held" in gate(hold, 6, 45)[1]
    assert gate(send, 6, 44)[0] is False
    assert gate(send, 6, 45)[0] is True


def test_the_scheduler_sends_a_held_day_once_it_is_approved(tmp_path: Path, inbox: Inbox) -> None:
    config_path, out = _held_day(tmp_path, inbox, "hold")
    config = load_config(config_path)
    clock = datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
    service = Service(config, out, clock=lambda: clock, lock_wait=5)
    assert service.review_job() == ""  # not approved: nothing to do, not even a log line
    assert inbox.messages == []
    assert review(config_path, out, "approve").exit_code == 0
    outcome = service.review_job()
    assert outcome.startswith("ok: briefing 2026-03-10; delivery: 2 sent"), outcome
    assert len(inbox.messages) == 2
    assert service.review_job() == ""
    assert len(inbox.messages) == 2
