# ruff: noqa: E501  (data tables: one record a line reads better than wrapped records)
"""Sectors: one canonical list and the news/MISP forms that map to it (tag stage, data).

In: ``SECTOR_TABLE`` (written for this project) plus the MISP ``sector`` cluster's names and
synonyms mapped through ``MISP_SECTOR_MAP``. Out: ``sector_terms()`` -> (surface form,
canonical sector, exact) for the tagger's automaton.

Matching is case-insensitive except for the forms marked exact (e.g. "IT", which is also a
pronoun). Plurals are listed where news uses them. "government" needs a little care: after a
country or demonym ("the Iranian government") it names a state, not a victim sector; the
tagger applies that check (see tagger.py). Adjective forms (``ADJECTIVE_FORMS``: "financial",
"diplomatic", ...) count only before an organisation noun (``ORG_NOUNS``) or as a list item:
"financial pressure on Iran" names no victim sector.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

ORGANISATIONS_FILE = "data/organisations.txt"

# canonical | forms (";"-separated). A form starting with "=" is exact (case-sensitive).
SECTOR_TABLE = """
Aerospace|aerospace;aviation;aircraft manufacturers;space industry;space agencies;satellite operators
Agriculture|agriculture;agricultural;farming;agribusiness;food and agriculture
Automotive|automotive;car manufacturers;carmakers;automakers;auto industry
Chemical|chemical;chemicals;chemical industry;chemical companies;chemical company;petrochemical;petrochemicals
Construction|construction;construction companies;engineering firms
Critical infrastructure|critical infrastructure;utilities;utility firms;utility providers;critical infrastructures;critical national infrastructure;industrial control systems;public utilities;utility companies;water utilities;water utility;water treatment;water sector
Cryptocurrency|cryptocurrency;crypto;blockchain;DeFi;web3;crypto wallets;crypto platforms;crypto projects;cryptocurrency exchanges;cryptocurrency exchange;crypto exchanges;crypto exchange;cryptocurrency companies;crypto companies;crypto firms;crypto firm
Defense|defense;defence;defense industry;defence industry;defense contractors;defence contractors;defense industrial base;military;armed forces;ministry of defense;ministry of defence;defense sector;defence sector;military contractors;arms manufacturers
Diplomacy|diplomatic;diplomats;diplomatic corps;embassies;embassy;foreign ministries;foreign ministry;ministry of foreign affairs;foreign affairs
Education|education;school;K-12;students;school staff;educational;academia;academic;universities;university;schools;school districts;colleges;research institutes;research institutions;higher education
Energy|energy;oil and gas;electricity;electric utilities;power grid;power plants;petroleum;oil company;oil companies;energy companies;energy sector;power companies;renewable energy
E-commerce|e-commerce;ecommerce;online retail;online shops;online stores;online shopping;e-shops;webshops
Entertainment|entertainment;gaming;video game;video games;game developers;gaming industry;gaming companies;casinos;gambling;streaming services;film industry;music industry
Finance|finance;robo-advisor;brokerage;brokerages;lender;lenders;wealth management;neobank;financials;financial services;financial institutions;financial sector;financial sectors;financial industry;banks;banking;bank;fintech;insurance;insurers;investment firms;payment processors;credit unions;stock exchanges;asset management;accounting;accountants;cryptocurrency exchanges
Government|government;ministry;city council;governments;government agencies;county;counties;county government;municipal;city government;government entities;government organizations;government organisations;public sector;public administration;ministries;federal agencies;state agencies;local governments;municipalities;city councils;government bodies;government body;state institutions;parliaments;political parties;politicians;public-sector organizations;public-sector organisations
Healthcare|healthcare;medical;medtech;medical technology;medical device maker;ambulance;ambulance service;patients;health system;health insurer;health care;hospitals;hospital;health sector;healthcare providers;healthcare sector;clinics;pharmacies;health systems;hospital systems;healthcare organizations;healthcare provider
High-tech|high-tech;high tech;hi-tech;technology;tech companies;tech firms;technology companies;technology firms;semiconductor;semiconductors;chipmakers;electronics;software companies;software vendors;tech sector;technology sector
Hospitality|hospitality;hotels;hotel;restaurants;restaurant;hospitality industry;tourism;resorts
IT|=IT;information technology;IT firms;IT companies;IT services;IT service providers;IT sector;managed service providers;managed services providers;MSPs;cloud providers;cloud service providers;hosting providers;data centers;data centres;IT infrastructure;IT contractors;IT contractor;IT company
Legal|law firms;law firm;lawyers;legal sector;legal services
Law enforcement|law enforcement;police;law enforcement agencies;police forces;border agencies;courts;judiciary
Logistics|logistics;freight;cargo;courier;couriers;courier service;postal service;parcel delivery;shipping;maritime;shipping companies;supply chain;supply chains;delivery companies;ship builder;shipbuilders;shipbuilding
Manufacturing|manufacturing;manufacturers;industrial companies;manufacturing sector
Media|media;news media;journalists;journalism;newspapers;broadcasters;broadcaster;publishers;publishing;news organizations;news outlets;television;media companies;media outlets
NGOs|NGOs;NGO;non-governmental organizations;non-governmental organisations;non-profits;nonprofits;non-profit organizations;charities;think tanks;think tank;human rights organizations;civil society;activists;dissidents
Pharmaceutical|pharmaceutical;pharmaceuticals;pharma;drugmakers;biotech;biotechnology;life sciences;vaccine research
Research|research organizations;research centers;scientific research
Retail|retail;retailers;retail sector;supermarkets
Telecommunications|telecommunications;wireless carrier;wireless carriers;mobile carrier;mobile carriers;telecommunication;telecom;telecoms;telcos;telco;telecom providers;telecommunications firms;telecommunications companies;telecom operators;mobile operators;internet service providers;ISPs;cable and satellite;telecommunication companies
Transportation|transportation;railways;railway;airlines;airline;airports;airport;aviation industry;trucking;public transport
Travel|travel;travel industry;travel agencies;travel companies;airline companies;hospitality and travel;travel sector;tourism industry
Real estate|real estate;property management
Professional services|professional services;consultancies;business services
Cybersecurity|cybersecurity companies;cybersecurity firms;security vendors;security companies;antivirus vendors;cybersecurity industry;cyber security company;security firms
Food|food and beverage;sugar producer;dairy;brewer;brewery;meat processor;food processing;restaurants chains;food giant;food company;food companies;food maker;food makers;food manufacturer;food producers;food producer;food retailer
"""

# MISP sector cluster values/synonyms -> canonical (others map only if they equal a canonical
# name or a form above, case-insensitively).
MISP_SECTOR_MAP: dict[str, str] = {
    "Academia - University": "Education",
    "Higher education": "Education",
    "Bank": "Finance",
    "Payment": "Finance",
    "Accounting": "Finance",
    "Civil Aviation": "Aerospace",
    "Space": "Aerospace",
    "Satellite navigation": "Aerospace",
    "Diplomacy": "Diplomacy",
    "Electric": "Energy",
    "Oil": "Energy",
    "Gas": "Energy",
    "Turbine": "Energy",
    "Petrochemical": "Chemical",
    "Casino": "Entertainment",
    "Sport": "Entertainment",
    "Streaming service": "Entertainment",
    "Video Sharing": "Entertainment",
    "Government, Administration": "Government",
    "Administration": "Government",
    "Political party": "Government",
    "Health": "Healthcare",
    "Life science": "Pharmaceutical",
    "Biomedical": "Pharmaceutical",
    "Pharmacy": "Pharmaceutical",
    "Hotels": "Hospitality",
    "Restaurant": "Hospitality",
    "Tourism": "Hospitality",
    "IT - ISP": "Telecommunications",
    "IT - Security": "Cybersecurity",
    "Security actors": "Cybersecurity",
    "Managed Services Provider": "IT",
    "Digital services": "IT",
    "Digital infrastructure": "IT",
    "DNS service provider": "IT",
    "Programming": "IT",
    "Justice": "Law enforcement",
    "Police - Law enforcement": "Law enforcement",
    "Lawyers": "Legal",
    "Tax firm": "Professional services",
    "Consulting": "Professional services",
    "Marketing": "Professional services",
    "Advertising": "Professional services",
    "Maritime": "Logistics",
    "Shipping": "Logistics",
    "Logistic": "Logistics",
    "Railway": "Transportation",
    "Transport": "Transportation",
    "Military": "Defense",
    "Security Service": "Defense",
    "Metal": "Manufacturing",
    "Steel": "Manufacturing",
    "Industrial": "Manufacturing",
    "Mining": "Energy",
    "News - Media": "Media",
    "Journalist": "Media",
    "Television broadcast": "Media",
    "Publishing industry": "Media",
    "NGO": "NGOs",
    "Non-profit organisation": "NGOs",
    "Think Tanks": "NGOs",
    "Civil society": "NGOs",
    "Research - Innovation": "Research",
    "Online marketplace": "E-commerce",
    "eCommerce": "E-commerce",
    "Semi-conductors": "High-tech",
    "High tech": "High-tech",
    "Technology": "High-tech",
    "Electronic": "High-tech",
    "Communication equipment": "Telecommunications",
    "Telecoms": "Telecommunications",
    "Water": "Critical infrastructure",
    "Smart meter": "Critical infrastructure",
}


# Words beside "supply chain" that make it the software supply chain (see NOT_BEFORE/AFTER).
_SOFTWARE_SUPPLY_CHAIN_AFTER = (
    "attack",
    "attacks",
    "compromise",
    "compromises",
    "risk",
    "risks",
    "breach",
    "breaches",
    "incident",
    "incidents",
    "intrusion",
    "intrusions",
    "hack",
    "hacks",
    "security",
    "threat",
    "threats",
    "poisoning",
    "vulnerability",
    "vulnerabilities",
    "campaign",
    "campaigns",
    "malware",
    "exposure",
)
_SOFTWARE_SUPPLY_CHAIN_BEFORE = (
    "software",
    "open-source",
    "open",
    "source",
    "code",
    "package",
    "build",
)

# Forms that are not sectors when a given word follows ("defense evasion", "banking trojan")
# or precedes ("social media"). Lower-case; checked by the tagger on the scan text.
NOT_BEFORE: dict[str, tuple[str, ...]] = {
    "defense": ("evasion", "mechanism", "mechanisms", "in depth", "in-depth", "tools", "products"),
    "defence": ("evasion", "mechanism", "mechanisms", "in depth", "in-depth"),
    "financial": (
        "gain",
        "gains",
        "motivation",
        "motive",
        "data",
        "information",
        "details",
        "loss",
        "losses",
        "fraud",
        "crime",
        "crimes",
        "theft",
        "credentials",
    ),
    "banking": (
        "trojan",
        "trojans",
        "malware",
        "credentials",
        "details",
        "information",
        "data",
        "botnet",
        "apps",
        "app",
        "injects",
        "fraud",
    ),
    "bank": (
        "account",
        "accounts",
        "details",
        "credentials",
        "card",
        "cards",
        "transfer",
        "transfers",
        "trojan",
        "holiday",
    ),
    "energy": ("consumption", "efficient"),
    "media": ("files", "file", "player", "types"),
    "technology": ("stack", "stacks"),
    "government": ("said", "says", "denied", "has", "have"),
    "military": ("intelligence", "unit", "units", "grade"),
    # "supply chain" before a word of security is the software supply chain, which is no
    # Logistics victim (the news guide); a supply chain disrupted by an attack still is.
    "supply chain": _SOFTWARE_SUPPLY_CHAIN_AFTER,
    "supply chains": _SOFTWARE_SUPPLY_CHAIN_AFTER,
    "it": (
        "admin",
        "admins",
        "administrator",
        "administrators",
        "staff",
        "team",
        "teams",
        "department",
        "departments",
        "security",
        "professionals",
        "personnel",
        "support",
        "environment",
        "environments",
        "systems",
        "helpdesk",
        "help",
        "was",
        "is",
        "has",
    ),
    "travel": ("itineraries", "itinerary", "plans", "documents"),
    "hotel": ("wi fi", "wifi", "room", "rooms"),
}
# Adjective forms, and nouns mostly used as modifiers or for a thing rather than its industry
# ("payment", "insurance", "cryptocurrency", "technology"): a sector only before an
# organisation noun ("financial institutions") or as
# an item of a list ("energy, financial, and retail"), never before any other noun
# ("financial pressure", "academic debate").
ADJECTIVE_FORMS = frozenset(
    {
        "financial",
        "diplomatic",
        "educational",
        "academic",
        "agricultural",
        "payment",
        "insurance",
        "cryptocurrency",
        "technology",
        "electronic",
    }
)
ORG_NOUNS = frozenset(
    """institutions institution services service sector sectors industry industries
    organizations organisations organization organisation firms firm companies company
    entities entity businesses business targets victims customers clients providers provider
    system systems bodies agencies staff personnel networks exchange exchanges platform platforms
    startups developers operators""".split()  # noqa: SIM905
)
NOT_AFTER: dict[str, tuple[str, ...]] = {
    "supply chain": _SOFTWARE_SUPPLY_CHAIN_BEFORE,
    "supply chains": _SOFTWARE_SUPPLY_CHAIN_BEFORE,
    "media": ("social", "removable", "storage"),
    "banking": ("online",),
    "retail": ("non",),
}


def _parse() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in SECTOR_TABLE.strip().splitlines():
        name, forms = line.split("|")
        out[name] = tuple(f.strip() for f in forms.split(";") if f.strip())
    return out


SECTOR_FORMS: dict[str, tuple[str, ...]] = _parse()


@lru_cache(maxsize=1)
def organisations() -> dict[str, str]:
    """``data/organisations.txt``: each well-known organisation's names -> its sector."""
    text = resources.files("briefing.intel").joinpath(ORGANISATIONS_FILE).read_text("utf-8")
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        sector, *names = (x.strip() for x in line.split("|"))
        if sector not in SECTOR_FORMS:
            raise ValueError(f"{ORGANISATIONS_FILE}: unknown sector {sector!r}")
        for name in names:
            out.setdefault(name, sector)
    return out


def sector_terms(
    misp_values: list[tuple[str, list[str]]] | None = None,
) -> list[tuple[str, str, bool]]:
    """(form, canonical, exact) for every form, including mapped MISP sector names."""
    terms: list[tuple[str, str, bool]] = []
    known: dict[str, str] = {}
    for name, forms in SECTOR_FORMS.items():
        for f in forms:
            exact = f.startswith("=")
            form = f[1:] if exact else f
            terms.append((form, name, exact))
            known.setdefault(form.lower(), name)
        known.setdefault(name.lower(), name)
    for value, synonyms in misp_values or []:
        canon = MISP_SECTOR_MAP.get(value) or known.get(value.lower())
        if canon is None:
            continue
        for form in (value, *synonyms):
            if " - " in form or "," in form or form.lower() in known:
                continue
            terms.append((form, canon, False))
            known[form.lower()] = canon
    # Named organisations: exact case ("Target" the retailer, not "target"), after the forms.
    terms.extend((name, sector, True) for name, sector in organisations().items())
    return terms
