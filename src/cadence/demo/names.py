"""Word lists the demo draws names from: people, companies, industries, regions."""

from __future__ import annotations

import numpy as np

FIRST_NAMES = (
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Priya", "Lucas", "Amara", "Mateo", "Hana", "Oliver",
    "Sofia", "Kenji", "Elena", "Marcus", "Ingrid", "Tomas", "Leila", "Jonah", "Chloe", "Rafael", "Nadia",
    "Samuel", "Grace", "Diego", "Freya", "Arjun", "Isla", "Victor", "Mei", "Daniel", "Olga", "Kwame",
    "Clara", "Hugo", "Yara", "Felix", "Aisha", "Bruno", "Tessa", "Omar", "Lena", "Caleb", "Ines", "Pavel",
    "Rosa", "Theo", "Fatima", "Jasper", "Nora", "Emil", "Sanjay", "Julia", "Malik", "Astrid", "Ruben",
    "Keiko", "Adrian", "Selin", "Marta", "Idris", "Paula", "Stefan", "Lucia", "Andre", "Wen", "Erik",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Alvarez", "Brennan", "Kowalski", "Haddad", "Nguyen",
    "Schmidt", "Costa", "Patel", "Fischer", "Oyelaran", "Rossi", "Hughes", "Novak", "Ibrahim", "Larsen",
    "Dubois", "Kimura", "Mendez", "Walsh", "Andersson", "Silva", "Becker", "Chen", "O'Neill", "Petrov",
    "Santos", "Murphy", "Varga", "Horvat", "Jansen", "Adeyemi", "Castillo", "Nakamura", "Bauer", "Reyes",
    "Eriksen", "Morgan", "Sato", "Fernandes", "Kaplan", "Mwangi", "Romero", "Holm", "Dimitrov", "Wright",
    "Yilmaz", "Ortega", "Lund", "Marsh", "Quinn", "Abara", "Koch", "Delgado", "Park", "Svensson", "Cruz",
)

# Company names are a made-up first word (a start and an end) and an industry word. Two companies
# with the same start never share their industry word, and no two words of a list are a letter or two
# apart, so two different companies never look like a typo of each other.
NAME_STARTS = (
    "Blue", "North", "Silver", "Iron", "Bright", "Stone", "Red", "Green", "Clear", "Swift", "High", "Deep",
    "Gold", "Star", "Oak", "Cedar", "Pine", "Maple", "Summit", "Harbor", "River", "Lake", "Ocean", "Sun",
    "Moon", "Cloud", "Frost", "Ember", "Copper", "Amber", "Coral", "Falcon", "Eagle", "Fox", "Wolf", "Bear",
    "Lion", "Orbit", "Nova", "Apex", "Vertex", "Quartz", "Granite", "Willow", "Aspen", "Birch", "Hazel",
    "Juniper", "Sage", "Indigo", "Crimson", "Scarlet", "Saffron", "Onyx", "Pearl", "Jade", "Ruby", "Topaz",
    "Alder", "Arbor", "Atlas", "Beacon", "Bison", "Brass", "Canyon", "Cascade", "Comet", "Crane", "Delta",
    "Dune", "Echo", "Elm", "Fern", "Flint", "Glacier", "Harvest", "Heron", "Horizon", "Ivory", "Kestrel",
    "Linden", "Lotus", "Lynx", "Mosaic", "Meadow", "Mesa", "Nimbus", "Opal", "Osprey", "Otter", "Prairie",
    "Quill", "Raven", "Sequoia", "Slate", "Sparrow", "Spruce", "Tide", "Timber", "Umber", "Vista", "Zephyr",
)
NAME_ENDS = ("field", "gate", "point", "ridge", "view", "stone", "wood", "haven", "crest", "mark", "peak",
             "shore", "works", "light", "brook", "hill", "port")
INDUSTRY_WORDS = {
    "Software": ("Software", "Digital", "Cloud", "Data", "Apps", "Labs"),
    "Financial Services": ("Capital", "Finance", "Bank", "Payments", "Assurance", "Credit"),
    "Healthcare": ("Health", "Medical", "Clinics", "Pharma", "Care", "Therapeutics"),
    "Manufacturing": ("Industries", "Manufacturing", "Machines", "Fabrication", "Components", "Tooling"),
    "Retail": ("Retail", "Stores", "Outfitters", "Market", "Goods", "Boutiques"),
    "Education": ("Learning", "Academy", "Education", "Schools", "Tutoring", "Campus"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Couriers", "Haulage"),
    "Media": ("Studios", "Publishing", "Broadcasting", "Entertainment", "Press", "Pictures"),
    "Professional Services": ("Consulting", "Partners", "Advisory", "Legal", "Accounting", "Staffing"),
    "Energy": ("Energy", "Power", "Solar", "Utilities", "Renewables", "Grid"),
    "Telecommunications": ("Telecom", "Networks", "Wireless", "Broadband", "Fiber", "Mobile"),
    "Hospitality": ("Hotels", "Hospitality", "Travel", "Resorts", "Dining", "Catering"),
}
INDUSTRIES = tuple(INDUSTRY_WORDS)
DOMAIN_ENDINGS = (".com", ".com", ".com", ".io", ".co", ".net")
REGIONS = ("North America", "Latin America", "EMEA", "APAC")
REGION_SHARES = (0.50, 0.08, 0.32, 0.10)


def person_names(rng: np.random.Generator, count: int) -> list[str]:
    """`count` distinct full names."""
    first = rng.permutation(len(FIRST_NAMES))
    last = rng.permutation(len(LAST_NAMES))
    return [f"{FIRST_NAMES[first[i % len(first)]]} {LAST_NAMES[last[i % len(last)]]}" for i in range(count)]


def company_names(rng: np.random.Generator, count: int) -> tuple[list[str], list[str], list[str]]:
    """`count` distinct company names with their industry and web domain."""
    words = [(industry, word) for industry, options in INDUSTRY_WORDS.items() for word in options]
    picks = rng.choice(len(NAME_STARTS) * len(words), size=count, replace=False)
    ends = rng.integers(0, len(NAME_ENDS), count)
    names, industries, domains = [], [], []
    for pick, end in zip(picks, ends, strict=True):
        start = NAME_STARTS[pick // len(words)] + NAME_ENDS[end]
        industry, word = words[pick % len(words)]
        names.append(f"{start} {word}")
        industries.append(industry)
        domains.append(f"{start}{word}".lower() + DOMAIN_ENDINGS[pick % len(DOMAIN_ENDINGS)])
    return names, industries, domains
