"""The tagger's fast paths give exactly what the plain regexes they replace give.

Each fast path (byte tables, ``str.find`` candidates, word prefilters) is compared with its
reference on random strings built from the characters and words that matter to it.
"""

from __future__ import annotations

import random
import re

import ahocorasick

from briefing.intel import geo, iocs, tagger
from briefing.intel.normalize import _SCAN_TABLE, scan_text, walk_order

_ODD = ["\u0130", "\u0131", "\u017f", "\u212a", "\u00e9", "\u2019", "\u2014", "\u00a0", "\ud800"]


def _strings(pieces: list[str], n: int, max_len: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, max_len))) for _ in range(n)]


def test_scan_text_matches_the_regex_definition() -> None:
    non_word = re.compile(r"[^\w ]|_")

    def reference(text: str) -> str:
        low = text.lower()
        if len(low) != len(text):
            return text.translate(_SCAN_TABLE)
        return non_word.sub(" ", low)

    pieces = [chr(c) for c in range(0x250)] + _ODD + ["\u4e2d", "\U0001f600", "\u0660"]
    for s in _strings(pieces, 3000, 12, 1):
        assert scan_text(s) == reference(s), repr(s)


def test_url_spans_match_finditer() -> None:
    pieces = ["http", "https", "hxxp", "ftp", "file", "://", "](", ")", "www.", "www", ".", "a"]
    pieces += [" ", "\n", "]", "(", '"', "<", "w", "s", "_", "\u00e9", "/"]
    for s in _strings(pieces, 3000, 14, 2):
        want = [m.span() for m in tagger._URL_SPAN_RE.finditer(s)]
        got = [m.span() for m in tagger._url_spans(s, tagger._url_span_starts(s))]
        assert got == want, repr(s)


def test_ioc_fast_paths_match_the_regexes() -> None:
    pieces = ["h", "H", "xx", "XX", "**", "p", "P", "s", "f", "fxp", "hxxps", "[", "]", "(", ")"]
    pieces += ["{", "}", ".", "dot", "at", "@", ":", "//", "://", " ", "\n", "cve", "CVE", "-"]
    pieces += ["2021", "44228", "_", "\u2013", "deadbeef0123456789", "0123456789abcdef", "g"]
    pieces += _ODD
    for s in _strings(pieces, 3000, 16, 3):
        want_hex = [m.span() for m in iocs._HEX_RUN.finditer(s)]
        assert iocs._hex_runs(s) == want_hex, repr(s)
        want_scheme = [m.span() for m in iocs._SCHEME_FANG.finditer(s)]
        assert [m.span() for m in iocs._scheme_fangs(s, s.lower())] == want_scheme, repr(s)
        assert [m.span() for m in iocs._cve_matches(s, s.lower())] == [
            m.span() for m in iocs.CVE_RE.finditer(s)
        ], repr(s)
        two_pass = iocs._SCHEME_FANG.sub(iocs._scheme_repl, s)
        assert iocs.refang(s) == iocs._BRACKET_FANG.sub(iocs._bracket_repl, two_pass), repr(s)


def test_under_set_matches_under() -> None:
    hosts = ["github.com", "a.github.com", "xgithub.com", "t.co", "a.t.co", "example.com"]
    hosts += ["x.example.com", "localhost", "a.localhost", "com", "", ".", "github.com."]
    for h in hosts:
        for parents in (iocs._REFERENCE_HOSTS, iocs._RESERVED_DOMAINS):
            assert iocs._under_set(h, parents) == iocs._under(h, parents), h


def test_country_role_prefilters_match_the_regexes() -> None:
    text = (
        "linked tied attributed to with by for of from in the on behalf hackers based operating"
        " out government state target attacks against victims hit white spying spied users"
        " organisations located countries such as campaign"
    )
    words = text.split(" ")
    words += ["IN", "To", "THE", ",", ".", "(", "\u0130n", "\u017fpy", "\u0131nfected", "_"]
    rnd = random.Random(4)
    for _ in range(5000):
        s = "".join(
            rnd.choice(words) + rnd.choice([" ", "", " ", "\n", "\u00a0", "_"])
            for _ in range(rnd.randint(0, 8))
        )
        assert geo._attr_before(s) == (geo._ATTR_BEFORE.search(s) is not None), repr(s)
        assert geo._target_cue(s) == (geo._TARGET_CUE.search(s) is not None), repr(s)


def test_actor_list_prefilter_matches_the_regex() -> None:
    words = [
        "groups",
        "actors",
        "gangs",
        "apt",
        "threat",
        "such",
        "as",
        "including",
        "like",
        "namely",
        "e",
        "g",
        "incl",
        "x",
        "lazarus",
    ]
    rnd = random.Random(5)
    for _ in range(5000):
        wide = "".join(
            rnd.choice(words) + rnd.choice([" ", "  "]) for _ in range(rnd.randint(0, 9))
        )
        window = " ".join(wide.split()) + " "
        want = int(tagger._LIST_BEFORE.search(window) is not None)
        # Nothing else next to the name: the answer is the list regex's alone.
        assert tagger._actor_context(" x", " x ", wide) == want, repr(wide)


def test_walk_order_builds_the_same_automaton() -> None:
    keys = [" apt 28", " apt", " ap", " sandworm", " sand", " é", " 29", " t", " team", " tea"]
    plain = ahocorasick.Automaton()
    walked = ahocorasick.Automaton()
    for k in keys:
        plain.add_word(k, k)
    for k in sorted(keys, key=walk_order):
        walked.add_word(k, k)
    plain.make_automaton()
    walked.make_automaton()
    assert sorted(keys, key=walk_order)[:2] == [" t", " tea"]  # frequent letters first
    pieces = ["apt", " ", "28", "29", "sand", "worm", "team", "t", "ea", "é", "a", "p"]
    for s in _strings(pieces, 3000, 12, 6):
        assert list(walked.iter_long(s)) == list(plain.iter_long(s)), repr(s)
        assert list(walked.iter(s)) == list(plain.iter(s)), repr(s)
