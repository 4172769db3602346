"""CLI commands of the tag stage: ``briefing tag`` and ``briefing kb show|update``.

In: files, stdin or a JSONL stream; a MISP galaxy cluster file, folder or URL. Out: JSON on
stdout (indicators defanged, as everywhere the project shows them), or a KB installed into the
user's data directory. Expected user errors become one-line ``click.ClickException``s.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from briefing.intel.iocs import defang
from briefing.intel.kb import (
    KB_CLUSTERS,
    KnowledgeBaseError,
    load_kb,
    read_cluster,
    user_clusters_dir,
    validate_cluster,
)

MAX_DOWNLOAD = 64 * 1024 * 1024


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or ("<body" in head and "</" in head)


def _html_to_text(html: str) -> str:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False)
    if text:
        return str(text)
    from lxml import html as lxml_html

    return str(lxml_html.fromstring(html).text_content())


def _title_and_body(text: str) -> tuple[str, str]:
    """A text's first line as its title when it looks like one (a headline over a body), as
    the kind classifier weighs title words apart from the body's."""
    first, sep, rest = text.strip().partition("\n")
    if sep and rest.strip() and len(first) <= 250:
        return first.strip(), rest.strip()
    return "", text


def _result(doc_id: str, text: str, title: str | None = None) -> dict[str, Any]:
    if _looks_like_html(text):
        text = _html_to_text(text)
    from briefing.intel.stage import with_kind
    from briefing.intel.tagger import get_tagger  # ~50 ms: not for every ``briefing`` command

    ents = get_tagger().tag(text, title=title or "")
    head, body = (title, text) if title else _title_and_body(text)
    ents = with_kind(ents, head, body, None)
    out: dict[str, Any] = {"id": doc_id}
    out.update(ents.to_dict())
    out["indicators"] = {
        kind: [defang(v, kind) for v in values] for kind, values in out["indicators"].items()
    }
    return out


@click.command(name="tag")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read one {"id", "text"} object a line (optionally "title"; from FILES or stdin); '
    "write one result a line.",
)
def tag_command(files: tuple[str, ...], jsonl: bool) -> None:
    """Print the threat-intel entities found in text or HTML as JSON.

    With no FILES (or "-") the text is read from stdin. One input prints an indented
    object; several print one object a line. Indicators are shown defanged. Each result has
    the text's "kind" (vulnerability, incident, campaign, law-enforcement, policy, industry,
    research, opinion) and "victim" (the organisation hit, or null); a first line over a body
    is read as the title.
    """
    sources = list(files) or ["-"]

    def read(src: str) -> str:
        if src == "-":
            return sys.stdin.read()
        try:
            return Path(src).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise click.ClickException(f"{src}: {exc.strerror or exc}") from exc

    if jsonl:
        for src in sources:
            for n, line in enumerate(read(src).splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    doc_id, text = str(obj["id"]), obj["text"]
                    title = obj.get("title")
                    if not isinstance(text, str) or not isinstance(title, str | None):
                        raise TypeError
                except (ValueError, KeyError, TypeError) as exc:
                    raise click.ClickException(
                        f'{src}:{n}: expected a JSON object with "id" and "text"'
                    ) from exc
                click.echo(json.dumps(_result(doc_id, text, title), ensure_ascii=False))
        return
    results = [_result("<stdin>" if s == "-" else s, read(s)) for s in sources]
    if len(results) == 1:
        click.echo(json.dumps(results[0], ensure_ascii=False, indent=2))
    else:
        for r in results:
            click.echo(json.dumps(r, ensure_ascii=False))


@click.group(name="kb")
def kb_group() -> None:
    """Inspect and update the offline threat-actor knowledge base."""


@kb_group.command(name="show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def kb_show(name: str, as_json: bool) -> None:
    """Print what the knowledge base knows of the actor NAME (any alias works)."""
    try:
        kb = load_kb()
    except KnowledgeBaseError as exc:
        raise click.ClickException(str(exc)) from exc
    actor = kb.lookup(name)
    if actor is None:
        fam = kb.lookup_malware(name)
        hint = f" (it is a malware family: {fam.name})" if fam else ""
        raise click.ClickException(f"no actor named {name!r} in the knowledge base{hint}")
    others = [a.name for a in kb.claimants(name) if a.id != actor.id]
    record = {
        "name": actor.name,
        "aliases": list(actor.aliases),
        "country": actor.country,
        "country_code": actor.country_code,
        "kind": actor.kind,
        "sources": list(actor.sources),
        "description": actor.description,
        "also_claimed_by": others,
    }
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    click.echo(f"{actor.name}")
    click.echo(f"  aliases:  {', '.join(actor.aliases) or '-'}")
    click.echo(f"  country:  {actor.country or 'unknown'}")
    click.echo(f"  kind:     {actor.kind}")
    click.echo(f"  clusters: {', '.join(actor.sources)}")
    if others:
        click.echo(f"  note:     {name!r} is also listed for {', '.join(others)}")
    if actor.description:
        click.echo(f"  about:    {actor.description}")


@kb_group.command(name="update")
@click.argument("source", required=False)
def kb_update(source: str | None) -> None:
    """Install newer MISP galaxy clusters into the user's data directory.

    SOURCE is a cluster JSON file, a folder of them (e.g. misp-galaxy/clusters) or an
    http(s) URL of one cluster file. Only the clusters the KB uses are installed. Without
    SOURCE, prints where installed clusters live and which are installed.
    """
    dest = user_clusters_dir()
    if source is None:
        present = sorted(p.name for p in dest.glob("*.json")) if dest.is_dir() else []
        click.echo(f"user clusters: {dest}")
        click.echo(f"installed: {', '.join(present) or 'none (packaged data in use)'}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        if source.startswith(("http://", "https://")):
            paths = [_download(source, Path(tmp))]
        else:
            src = Path(source).expanduser()
            if src.is_dir():
                paths = sorted(src.glob("*.json"))
            elif src.is_file():
                paths = [src]
            else:
                raise click.ClickException(f"{source}: no such file or folder")
        installed: list[str] = []
        for path in paths:
            try:
                data = read_cluster(path)
            except KnowledgeBaseError as exc:
                if len(paths) == 1:
                    raise click.ClickException(str(exc)) from exc
                continue
            name = _cluster_name(path, data)
            if name not in KB_CLUSTERS:
                if len(paths) == 1:
                    raise click.ClickException(
                        f"{path.name}: cluster type {data['type']!r} is not one the KB uses "
                        f"({', '.join(KB_CLUSTERS)})"
                    )
                continue
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / f"{name}.json")
            installed.append(f"{name} ({len(data['values'])} entries)")
    if not installed:
        raise click.ClickException(f"{source}: no cluster the KB uses was found")
    from briefing.intel.tagger import reset_tagger

    reset_tagger()
    try:
        kb = load_kb()
    except KnowledgeBaseError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"installed into {dest}: {', '.join(installed)}")
    click.echo(f"knowledge base: {len(kb.actors)} actors, {len(kb.malware)} malware families")


def _cluster_name(path: Path, data: dict[str, Any]) -> str:
    stem = path.stem
    return stem if stem in KB_CLUSTERS else str(data.get("type", stem))


def _download(url: str, folder: Path) -> Path:
    import httpx

    name = url.rstrip("/").rsplit("/", 1)[-1] or "cluster.json"
    if not name.endswith(".json"):
        name += ".json"
    target = folder / name
    try:
        with httpx.stream(
            "GET", url, timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True
        ) as resp:
            if resp.status_code != 200:
                raise click.ClickException(f"{url}: HTTP {resp.status_code}")
            size = 0
            with target.open("wb") as fh:
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DOWNLOAD:
                        raise click.ClickException(
                            f"{url}: larger than {MAX_DOWNLOAD // (1024 * 1024)} MB"
                        )
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"{url}: {exc}") from exc
    try:
        validate_cluster(json.loads(target.read_bytes()), url)
    except (ValueError, KnowledgeBaseError) as exc:
        raise click.ClickException(f"{url}: not a MISP galaxy cluster") from exc
    return target
