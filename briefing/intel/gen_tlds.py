"""Generate ``tlds.txt`` (the top-level domains the IOC extractor accepts) from a copy of the
Public Suffix List: ``python -m briefing.intel.gen_tlds PATH_TO_public_suffix_list.dat``.

Only the ICANN section's last labels are kept (IANA's root zone, in effect), IDN labels in
their Unicode and punycode forms. The output is plain data, one lower-case label a line.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

OUT = Path(__file__).with_name("tlds.txt")


def tlds_from_psl(text: str) -> list[str]:
    labels: set[str] = set()
    in_icann = False
    for raw in text.splitlines():
        line = raw.strip()
        if "===BEGIN ICANN DOMAINS===" in line:
            in_icann = True
        elif "===END ICANN DOMAINS===" in line:
            in_icann = False
        elif in_icann and line and not line.startswith("//"):
            label = line.lstrip("*.!").rsplit(".", 1)[-1].lower()
            labels.add(label)
            with contextlib.suppress(UnicodeError):
                labels.add(label.encode("idna").decode("ascii"))
    return sorted(labels)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    labels = tlds_from_psl(Path(argv[0]).read_text(encoding="utf-8"))
    OUT.write_text("\n".join(labels) + "\n", encoding="utf-8")
    print(f"{len(labels)} TLDs -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
