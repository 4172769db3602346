"""The wheel a user installs holds every template, asset and data file the checkout has.

The build runs the project's own backend (hatchling, from the test extras) with no build
isolation, so it needs no network. A file added under ``templates/`` or a data folder that the
backend's configuration would leave out fails here, not on a user's machine.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_PARTS = {"__pycache__"}


def _files(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not SKIP_PARTS & set(path.parts) and path.suffix != ".pyc"
    }


def test_the_wheel_holds_every_template_asset_and_data_file(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("-w", str(tmp_path), str(ROOT)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    # The backend itself says nothing: a warning from it is what a newcomer reads as broken.
    backend_lines = [
        line
        for line in built.stderr.splitlines()
        if "warn" in line.lower() and "Location 'file:" not in line
    ]
    assert backend_lines == []
    (wheel,) = tmp_path.glob("briefing-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())

    expected = {f"briefing/templates/{name}" for name in _files(ROOT / "templates")}
    expected |= {f"briefing/{name}" for name in _files(ROOT / "briefing")}
    assert "briefing/templates/briefing.html" in expected
    assert "briefing/templates/assets/search.js" in expected
    assert any(name.startswith("briefing/intel/data/") for name in expected)
    assert any(name.startswith("briefing/demo/site/") for name in expected)
    missing = sorted(expected - inside)
    assert missing == []
    # Nothing from outside the package rides along (tests, the output folder, a venv).
    strays = sorted(name for name in inside if not name.startswith(("briefing/", "briefing-")))
    assert strays == []
