"""Indicators, CVEs, techniques, defang/refang."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from briefing.intel.iocs import defang, extract_indicators, find_cves, find_techniques, refang


def kinds(text: str, host: str | None = None) -> dict[str, tuple[str, ...]]:
    return dict(extract_indicators(text, host))


def test_defanged_forms_are_refanged() -> None:
    got = kinds("C2 hxxps://evil-domain[.]com/gate.php, 185.220.101[.]5 and bad[@]evil[.]xyz")
    assert got["url"] == ("https://evil-domain.com/gate.php",)
    assert got["ipv4"] == ("185.220.101.5",)
    assert got["email"] == ("bad@evil.xyz",)


def test_false_positives_are_rejected() -> None:
    text = (
        "Open report.pdf, invoice.docx, setup.exe or install.sh; Trojan.Win32.Agent was seen; "
        "version 1.2.3.4 shipped; 10.0.0.1 and 192.168.1.1 are private; see www.example.com."
    )
    assert kinds(text) == {}


def test_source_host_is_not_an_indicator() -> None:
    text = "Read more at https://www.news.example.org/a and news-site.com, C2 at bad-c2.net."
    got = kinds(text, "www.news-site.com")
    assert got.get("domain") == ("bad-c2.net",)


def test_hashes_and_ipv6() -> None:
    got = kinds("md5 d41d8cd98f00b204e9800998ecf8427e from 2a00:1450:4001:81b::200e")
    assert got["md5"] == ("d41d8cd98f00b204e9800998ecf8427e",)
    assert got["ipv6"] == ("2a00:1450:4001:81b::200e",)


def test_cves_and_techniques() -> None:
    assert find_cves("cve-2023–4567, CVE 2024 1234 and CVE-2023-4567") == [
        "CVE-2023-4567",
        "CVE-2024-1234",
    ]
    assert find_techniques("T1059.001, T1566, T9999 and XT1059") == ["T1059.001", "T1566"]


_label = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)


@given(st.lists(_label, min_size=1, max_size=3), st.sampled_from(["com", "net", "ru", "io"]))
def test_domain_defang_round_trip(labels: list[str], tld: str) -> None:
    dom = ".".join([*labels, tld])
    assert refang(defang(dom, "domain")) == dom
    assert "." not in defang(dom, "domain").replace("[.]", "")


@given(st.tuples(*[st.integers(1, 254)] * 4), st.sampled_from(["http", "https", "ftp"]))
def test_ip_and_url_round_trip(octets: tuple[int, ...], scheme: str) -> None:
    ip = ".".join(map(str, octets))
    assert refang(defang(ip, "ipv4")) == ip
    url = f"{scheme}://{ip}/path/x.php?q=1"
    assert refang(defang(url, "url")) == url
    assert "://" not in defang(url, "url").replace("[://]", "")


def test_vulnerability_citations_are_not_indicators() -> None:
    """A KEV entry's citation list names trackers and advisories, not attacker infrastructure;
    the same URL written defanged is still an indicator (someone chose to defang it)."""
    text = (
        "Exploitation citations:\n"
        "https://www.cve.org/CVERecord?id=CVE-2025-1234\n"
        "https://www.vulncheck.com/advisories/fileserver-rce\n"
        "https://dashboard.shadowserver.org/statistics/honeypot/vulnerability/map/?day=2025-07-24\n"
        "https://app.crowdsec.net/cti/cve-explorer/CVE-2025-1234\n"
        "https://www.exploit-db.com/exploits/51234\n"
        "Payload served from hxxp://update-check[.]net/dl.bin"
    )
    assert kinds(text) == {"url": ("http://update-check.net/dl.bin",)}


def test_glued_sentences_and_commit_ids_are_not_indicators() -> None:
    """Seen in real feeds: a missing space after a full stop ("problem.As ever") and a GitHub
    advisory's fix commit. A written host, a defanged one, or a file hash stays."""
    commit = "62bb185b70785ded49c79c26f8c9781f1e6fe370"
    text = (
        "Someone else had the same problem.As ever, back up first. It was.Here is why.\n"
        f"https://github.com/ijl/orjson/commit/{commit}\nFixed in commit {commit}.\n"
        f"https://github.com/python/cpython/blob/{commit}/Lib/platform.py\n"
        'sig = hmac.new(b"secret", body)\n'
        "The loader called update-check.net and dropped a file with SHA-1 "
        "7f39d97258217ee2c21a1f5031d4a6d7343eb30d. Also seen: Payload[.]As."
    )
    assert kinds(text) == {
        "domain": ("update-check.net", "payload.as"),
        "sha1": ("7f39d97258217ee2c21a1f5031d4a6d7343eb30d",),
    }


def test_a_host_mixing_scripts_is_extracted_whole_in_punycode_and_flagged() -> None:
    """ "login.microsоft.com" (Cyrillic о) is neither "ft.com" nor left out: the whole host, in
    punycode, flagged as a lookalike when shown; an xn-- host is decoded for the reader."""
    from briefing.intel.iocs import defang_lookalikes, idn_note

    text = (
        "Phishing pages at login.micros\u043eft.com and p\u0430ypal-secure.com, "
        "then https://p\u0430ypal.com/login and xn--pypal-4ve.com; M\u00fcller.Das ende."
    )
    found = dict(extract_indicators(text))
    assert found["domain"] == (
        "login.xn--microsft-sbh.com",
        "xn--pypal-secure-x9j.com",
        "xn--pypal-4ve.com",
    )
    assert found["url"] == ("https://xn--pypal-4ve.com/login",)
    assert idn_note("login.xn--microsft-sbh.com", "domain") == (
        "lookalike: login[.]micros\u043eft[.]com"
    )
    assert idn_note("https://xn--pypal-4ve.com/login", "url") == "lookalike: p\u0430ypal[.]com"
    assert idn_note("xn--caf-dma.fr", "domain") == "international name: caf\u00e9[.]fr"
    assert idn_note("microsoft.com", "domain") is None
    shown = defang_lookalikes(text)
    assert "micros\u043eft.com" not in shown and "login[.]xn--microsft-sbh[.]com" in shown
    assert "xn--pypal-4ve.com;" not in shown and "xn--pypal-4ve[.]com;" in shown
    assert "M\u00fcller.Das" in shown  # no host: left alone


def test_only_what_was_written_defanged_counts_as_defanged() -> None:
    # "report.zip" is inside the defanged URL's text, but the file name on its own is prose.
    text = "The loader fetched hxxp://evil[.]com/report.zip and then opened report.zip."
    found = dict(extract_indicators(text))
    assert found.get("url") == ("http://evil.com/report.zip",)
    assert "domain" not in found
    # Written defanged on its own, the same name is an indicator; so is a defanged URL's host.
    found = dict(extract_indicators("Then it beaconed to report[.]zip and evil[.]com/x."))
    assert found["domain"] == ("report.zip", "evil.com")
