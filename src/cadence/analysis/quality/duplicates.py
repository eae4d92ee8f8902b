"""Duplicate accounts: the same company recorded twice, by web domain or by (nearly) the same name."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from cadence.analysis.quality.findings import MAX_EXAMPLES, Finding, TableSource
from cadence.analysis.words import plural

if TYPE_CHECKING:
    import ibis.expr.types as ir

NAME_SIMILARITY = 0.92
BLOCK_LETTERS = 2
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company", "plc", "llp",
    "lp", "sa", "sas", "sarl", "ag", "kg", "bv", "nv", "pty", "pte", "srl", "spa", "oy", "ab", "as", "group",
})


def normalised_domain(domain: ir.StringValue) -> ir.StringValue:
    """Lower case, without scheme, `www.`, port, path, query or trailing dot: 'https://WWW.Acme.com/x' → 'acme.com'."""
    text = domain.strip().lower()
    text = text.re_replace(r"^[a-z][a-z0-9+.-]*://", "")
    text = text.re_replace(r"^www[0-9]*\.", "")
    text = text.re_replace(r"[/?#:].*$", "")
    return text.re_replace(r"\.+$", "")


def duplicate_domains(tables: TableSource, today: date) -> list[Finding]:
    """Accounts that share a web domain once it is normalised (case, scheme, www., path ignored).

    Two accounts on one domain are almost always one company entered twice: its deals and revenue
    are split, and per-account figures (size, expansion, churn) are wrong for both.
    """
    accounts = tables.table("accounts")
    keyed = accounts.select("account_id", domain=normalised_domain(accounts.domain))
    keyed = keyed.filter(keyed.domain.notnull(), keyed.domain != "")
    groups = keyed.group_by("domain").aggregate(accounts=keyed.account_id.count())
    groups = groups.filter(groups.accounts > 1)
    totals = groups.aggregate(companies=groups.domain.count(), accounts=groups.accounts.sum()).to_pandas()
    companies = int(totals["companies"].iloc[0])
    if companies == 0:
        return []
    involved = int(totals["accounts"].iloc[0])
    first = groups.order_by([groups.accounts.desc(), groups.domain]).limit(MAX_EXAMPLES)
    members = keyed.join(first.select("domain"), "domain").to_pandas()
    examples = [_group_label(group["account_id"]) for _, group in members.groupby("domain", sort=True)]
    message = (f"{plural(involved, 'account', verb='shares')} a web domain with another account "
               f"({plural(companies, 'company', 'companies')} recorded more than once; rule: same domain after "
               "ignoring case, http(s)://, www., and any path). Merge them so deals and revenue add up.")
    return [Finding("duplicate_account_domain", "warning", involved, message, examples)]


def normalised_name(name: str) -> str:
    """'The ACME, Inc.' → 'acme': case, accents, punctuation, a leading 'the' and legal suffixes dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("&", " and ")
    text = re.sub(r"(?<=\w)\.(?=\w\b|\w\.)", "", text)  # L.L.C. → LLC, S.A. → SA
    tokens = re.sub(r"[\W_]+", " ", text).split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    while len(tokens) > 1 and (tokens[-1] in LEGAL_SUFFIXES or tokens[-1] == "and"):  # "GmbH & Co. KG"
        tokens.pop()
    return " ".join(tokens)


def duplicate_names(tables: TableSource, today: date) -> list[Finding]:
    """Accounts whose names are the same or nearly so once normalised.

    Rule: names compared after dropping case, accents, punctuation and legal suffixes (Inc, LLC, Ltd,
    GmbH, Corp, …); a pair is a duplicate when identical, or when difflib's similarity of the two
    (spaces removed) is at least 0.92 — about one typo in a 13-letter name — and any numbers in
    them are the same ('Store 12' and 'Store 13' are two stores). To stay fast on large account
    lists only names starting with the same two letters are compared.
    """
    frame = tables.table("accounts").select("account_id", "name").to_pandas()
    ids = [str(i) for i in frame["account_id"]]
    keys = [normalised_name(str(n)).replace(" ", "") for n in frame["name"]]
    groups = _similar_groups(ids, keys)
    if not groups:
        return []
    involved = sum(len(g) for g in groups)
    groups.sort(key=lambda g: (-len(g), g))
    examples = [_group_label(g) for g in groups[:MAX_EXAMPLES]]
    message = (f"{plural(involved, 'account', verb='has')} the same or nearly the same name as another "
               f"account ({plural(len(groups), 'group')}; rule: names equal after ignoring case, punctuation and "
               f"legal suffixes such as Inc/LLC/Ltd/GmbH/Corp, or at least {NAME_SIMILARITY:.0%} similar). "
               "Check whether they are one company.")
    return [Finding("duplicate_account_name", "warning", involved, message, examples)]


def _similar_groups(ids: list[str], keys: list[str]) -> list[list[str]]:
    """Groups (sorted ids) of accounts linked by equal or similar keys, joined transitively."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for account_id, key in zip(ids, keys, strict=True):
        if key:
            by_key[key].append(account_id)
    parent = {key: key for key in by_key}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in _similar_pairs(by_key):
        parent[root(a)] = root(b)
    clusters: dict[str, list[str]] = defaultdict(list)
    for key, members in by_key.items():
        clusters[root(key)].extend(members)
    return [sorted(members) for members in clusters.values() if len(members) > 1]


def _similar_pairs(keys: Iterable[str]) -> Iterable[tuple[str, str]]:
    """Pairs of distinct keys at least NAME_SIMILARITY alike, compared within blocks of equal first letters.

    difflib's ratio is only computed for pairs whose shared letters (counted with numpy, a bound on the
    ratio that difflib calls quick_ratio) could reach the threshold, so a block of thousands stays fast.
    """
    blocks: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        blocks[key[:BLOCK_LETTERS]].append(key)
    for block in blocks.values():
        if len(block) < 2:
            continue
        for i, j in _candidates(block):
            a, b = block[i], block[j]
            if _digits(a) == _digits(b) and SequenceMatcher(None, a, b, autojunk=False).ratio() >= NAME_SIMILARITY:
                yield a, b


def _candidates(block: list[str]) -> Iterable[tuple[int, int]]:
    """Index pairs (i < j) whose letter counts allow a similarity of NAME_SIMILARITY or more."""
    import numpy as np

    counts = np.zeros((len(block), _BUCKETS), dtype=np.int32)
    for row, key in enumerate(block):
        for ch in key:
            counts[row, _bucket(ch)] += 1
    lengths = counts.sum(axis=1)
    for start in range(0, len(block), _CHUNK):
        rows = counts[start:start + _CHUNK]
        shared = np.zeros((len(rows), len(block)), dtype=np.int32)
        for bucket in range(_BUCKETS):
            shared += np.minimum(rows[:, bucket, None], counts[None, :, bucket])
        bound = 2 * shared + 1e-9 >= NAME_SIMILARITY * (lengths[start:start + _CHUNK, None] + lengths[None, :])
        for i, j in zip(*np.nonzero(bound), strict=True):
            if start + i < j:
                yield int(start + i), int(j)


_BUCKETS = 40  # a–z, 0–9, and four buckets shared by every other character (still a valid upper bound)
_CHUNK = 512


def _bucket(ch: str) -> int:
    if "a" <= ch <= "z":
        return ord(ch) - ord("a")
    if "0" <= ch <= "9":
        return 26 + ord(ch) - ord("0")
    return 36 + ord(ch) % 4


def _digits(key: str) -> str:
    return "".join(ch for ch in key if ch.isdigit())


def _group_label(ids: Iterable[object]) -> str:
    return "=".join(sorted(str(i) for i in ids))
