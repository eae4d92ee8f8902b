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

# Company names are a made-up first word and an industry word; no two words of a list are one
# letter apart, so two different companies never look like a typo of each other.
NAME_STARTS = (
    "Blue", "North", "Silver", "Iron", "Bright", "Stone", "Red", "Green", "Clear", "Swift", "High", "Deep",
    "Gold", "Star", "Oak", "Cedar", "Pine", "Maple", "Summit", "Harbor", "River", "Lake", "Ocean", "Sun",
    "Moon", "Cloud", "Frost", "Ember", "Copper", "Amber", "Coral", "Falcon", "Eagle", "Fox", "Wolf", "Bear",
    "Lion", "Orbit", "Nova", "Apex", "Vertex", "Quartz", "Granite", "Willow", "Aspen", "Birch", "Hazel",
    "Juniper", "Sage", "Indigo", "Crimson", "Scarlet", "Cobalt", "Onyx", "Pearl", "Jade", "Ruby", "Topaz",
)
NAME_ENDS = (
    "field", "gate", "point", "ridge", "view", "water", "stone", "bridge", "wood", "haven", "crest", "line",
    "mark", "path", "peak", "shore", "wave", "works", "forge", "light", "vale", "brook", "hill", "port",
)
INDUSTRY_WORDS = {
    "Software": ("Software", "Digital", "Cloud", "Data", "Apps"),
    "Financial Services": ("Capital", "Finance", "Bank", "Payments", "Insurance"),
    "Healthcare": ("Health", "Medical", "Clinics", "Pharma", "Care"),
    "Manufacturing": ("Industries", "Manufacturing", "Machines", "Fabrication", "Components"),
    "Retail": ("Retail", "Stores", "Outfitters", "Market", "Goods"),
    "Education": ("Learning", "Academy", "Education", "Schools", "Tutoring"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Couriers"),
    "Media": ("Media", "Studios", "Publishing", "Broadcasting", "Entertainment"),
    "Professional Services": ("Consulting", "Partners", "Advisory", "Legal", "Accounting"),
    "Energy": ("Energy", "Power", "Solar", "Utilities", "Renewables"),
    "Telecommunications": ("Telecom", "Networks", "Wireless", "Broadband", "Fiber"),
    "Hospitality": ("Hotels", "Hospitality", "Travel", "Resorts", "Dining"),
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
    starts = [a + b for a in NAME_STARTS for b in NAME_ENDS]
    words = [(industry, word) for industry, options in INDUSTRY_WORDS.items() for word in options]
    combos = len(starts) * len(words)
    picks = rng.choice(combos, size=count, replace=False)
    names, industries, domains = [], [], []
    for pick in picks:
        start, (industry, word) = starts[pick // len(words)], words[pick % len(words)]
        names.append(f"{start} {word}")
        industries.append(industry)
        domains.append(f"{start}{word}".lower() + DOMAIN_ENDINGS[pick % len(DOMAIN_ENDINGS)])
    return names, industries, domains
