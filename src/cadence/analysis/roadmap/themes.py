"""Themes: requests that ask for the same thing, in whatever words, grouped so dollars add up per need.

Two requests are about the same need when either

- **their wording is close**: cosine similarity ≥ `TEXT_SIMILARITY` between TF-IDF vectors of their
  words (English stop words dropped, plurals folded: "reports" = "report"), which catches near-duplicates
  such as "SAML SSO with Okta" and "Okta SSO (SAML)"; or
- **product has triaged them alike**: cosine similarity ≥ `LINK_SIMILARITY` between the counts of the
  features (and hand-given themes) that requests worded this way were linked to. Words alone cannot tell
  that "Restrict what guests can do" and "Account-level permissions" are one need — they share no word —
  but a product manager who links both to the same features has said so, and every request worded the
  same way, linked or not, follows.

Themes are built from distinct wordings: those joined by any close pair (connected components), each
group then cut by average linkage so that a chain of pairwise-close wordings does not become one theme
(a group stays whole only where its wordings are close on average). A theme is named after
the `theme` its features carry, else the theme a request was given, else its most frequent wording;
its key is that name as a slug. A product manager then edits themes with `ThemeOverrides`, applied in
this order: merges, splits (requests of a theme whose wording contains given words become a new theme),
pins (one request to one theme, created when new), renames. A request imported with a theme keeps it
(it is a pin). Overrides naming a theme or request that no longer exists are reported, not applied.

Pure: frames in, a `ThemeCatalogue` out. The overrides are a plain structure the caller stores
(`cadence.entries.themes` keeps them in the workspace's themes.yml).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cadence.errors import CadenceError

TEXT_SIMILARITY = 0.5
LINK_SIMILARITY = 0.5
PHRASINGS_SHOWN = 5
TITLE_SIMILARITY = 0.7  # a feature without linked requests joins a theme only when its title nearly says it
CUT = 0.5  # similarity at which average linkage stops merging (each kind scaled to its threshold)
MAX_AVERAGED = 6_000  # wordings a joined group may hold and still be split by average linkage (memory: n²)
METHOD = (f"requests are one theme when their wording is close (TF-IDF cosine ≥ {TEXT_SIMILARITY}) or product "
          f"linked requests so worded to the same features (cosine of feature-link counts ≥ {LINK_SIMILARITY}); "
          "themes are the groups so connected, then edited by hand (merge, split, pin, rename)")


class ThemeOverrideError(CadenceError, ValueError):
    """A theme edit that cannot be made (unknown theme, nothing to split…)."""


@dataclass(frozen=True)
class Split:
    """Requests of `theme` whose wording contains any of `words` become the theme `name`."""

    theme: str
    words: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class ThemeOverrides:
    """A product manager's edits to the themes found, in the order they are applied."""

    merges: Mapping[str, str] = field(default_factory=dict)  # theme key → key it is merged into
    splits: tuple[Split, ...] = ()
    pins: Mapping[str, str] = field(default_factory=dict)  # request_id → theme key (or a new theme's name)
    renames: Mapping[str, str] = field(default_factory=dict)  # theme key → name shown

    def as_dict(self) -> dict[str, Any]:
        return {"merges": dict(self.merges),
                "splits": [{"theme": s.theme, "words": list(s.words), "name": s.name} for s in self.splits],
                "pins": dict(self.pins), "renames": dict(self.renames)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ThemeOverrides:
        """Read the stored form (as `as_dict` writes it); a clear error for a malformed entry."""
        data = data or {}
        unknown = set(data) - {"merges", "splits", "pins", "renames"}
        if unknown:
            raise ThemeOverrideError(f"unknown theme edit {sorted(unknown)[0]!r}",
                                     hint="theme edits are merges, splits, pins and renames")
        splits = []
        for item in data.get("splits") or []:
            if not isinstance(item, Mapping) or not {"theme", "words", "name"} <= set(item):
                raise ThemeOverrideError(f"a split needs theme, words and name, got {item!r}")
            words = item["words"]
            splits.append(Split(str(item["theme"]), tuple(str(w) for w in ([words] if isinstance(words, str)
                                                                            else words)), str(item["name"])))
        return cls({str(k): str(v) for k, v in (data.get("merges") or {}).items()}, tuple(splits),
                   {str(k): str(v) for k, v in (data.get("pins") or {}).items()},
                   {str(k): str(v) for k, v in (data.get("renames") or {}).items()})


@dataclass(frozen=True)
class Theme:
    key: str
    name: str
    requests: int
    accounts: int
    deals: int
    phrasings: tuple[str, ...]  # the most frequent wordings, most frequent first
    features: tuple[str, ...]  # features that answer it (see `feature_themes`)
    pinned: int  # requests placed here by hand

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "requests": self.requests, "accounts": self.accounts,
                "deals": self.deals, "phrasings": list(self.phrasings), "features": list(self.features),
                "pinned": self.pinned}


@dataclass
class ThemeCatalogue:
    themes: list[Theme]  # largest first
    assignment: pd.Series  # request_id → theme key
    feature_themes: dict[str, str]  # feature_id → theme key
    notes: list[str]  # overrides that could not be applied, and why
    method: str = METHOD

    def theme(self, key: str) -> Theme:
        for theme in self.themes:
            if theme.key == key:
                return theme
        from cadence.errors import UnknownNameError

        raise UnknownNameError("theme", key, [t.key for t in self.themes])

    def names(self) -> dict[str, str]:
        return {t.key: t.name for t in self.themes}

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "themes": [t.as_dict() for t in self.themes], "notes": self.notes}


# -- finding themes -----------------------------------------------------------------------------------
def find_themes(requests: pd.DataFrame, features: pd.DataFrame,
                overrides: ThemeOverrides | None = None) -> ThemeCatalogue:
    """Group `requests` (request_id, title, feature_id, theme, account_id, opportunity_id) into themes."""
    overrides = overrides or ThemeOverrides()
    requests = requests.reset_index(drop=True)
    wording = requests["title"].astype("object").fillna("").map(normalise)
    texts = sorted(set(wording))
    node = wording.map({t: i for i, t in enumerate(texts)}).to_numpy()
    vectorizer, vectors = _word_vectors(texts, [normalise(str(t)) for t in features["title"]])
    component = _components(vectors, len(texts), node, _labels(requests, features))
    keys, names = _name_components(component, node, requests, features)
    assignment = pd.Series([keys[c] for c in component[node]], index=requests["request_id"].to_numpy(),
                           dtype="object")
    given = requests["theme"].astype("object")
    pins = {rid: slug(str(t)) for rid, t in zip(requests["request_id"], given, strict=True)
            if isinstance(t, str) and t.strip()}
    names.update({slug(str(t)): str(t).strip() for t in given if isinstance(t, str) and t.strip()})
    notes: list[str] = []
    assignment = _apply_pins(assignment, pins, names, notes)
    assignment = _apply(assignment, wording.set_axis(requests["request_id"].to_numpy()), overrides, names, notes)
    feature_themes = _feature_themes(features, requests, assignment, node, (vectorizer, vectors), names)
    themes = _summaries(requests, assignment, wording, names, feature_themes, set(overrides.pins) | set(pins))
    return ThemeCatalogue(themes, assignment, feature_themes, notes)


_WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: the form wordings are compared in."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return " ".join(_WORD.findall(ascii_text))


def _tokens(text: str) -> list[str]:
    return [_fold(w) for w in text.split()]


def _fold(word: str) -> str:
    """Plurals folded into the singular, crudely: "reports" → "report" (not "access" → "acces")."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def slug(name: str) -> str:
    return "-".join(normalise(name).split()) or "theme"


def _labels(requests: pd.DataFrame, features: pd.DataFrame) -> pd.Series:
    """Per request, what product said it is about: its feature, or the theme it was given."""
    known = set(features["feature_id"])
    feature = requests["feature_id"].astype("object").where(requests["feature_id"].isin(known))
    given = requests["theme"].astype("object").map(lambda t: f"theme:{slug(t)}" if isinstance(t, str) and t.strip()
                                                   else None)
    return feature.where(feature.notna(), given)


def _word_vectors(texts: list[str], titles: list[str]) -> tuple[Any, Any]:
    """TF-IDF vectors of the distinct wordings (None when no wording has a word that is not a stop word).

    The vocabulary also learns the features' titles, so a title's own words weigh in when it is compared
    with requests ("Sandbox workspaces" is not "Granular permissions per workspace" for sharing one word)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(tokenizer=_tokens, token_pattern=None, lowercase=False, stop_words=_stop_words(),
                            sublinear_tf=True)
    try:
        words.fit([*texts, *titles])
    except ValueError:  # every wording is empty or stop words only: nothing to compare
        return None, None
    return words, words.transform(texts)


def _components(vectors: Any, n: int, node: np.ndarray, labels: pd.Series) -> np.ndarray:
    """Groups of distinct wordings: first joined by any close pair, then cut where the average closeness fails.

    Joining on any one close pair would chain: "export report to pdf" ~ "export data to csv" ~ "sync data
    to csv" … until everything is one theme. So each group so joined is split again by average linkage:
    two parts stay together only if their wordings are close *on average* (mean similarity ≥ the
    thresholds), the similarity of a pair being the larger of its wording and its triage similarity.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    links = _link_vectors(n, node, labels)
    edges = [np.zeros((0, 2), dtype=np.int64)]
    if vectors is not None:
        edges.append(_pairs_at_least(vectors, TEXT_SIMILARITY))
    if links is not None:
        edges.append(_pairs_at_least(links, LINK_SIMILARITY))
    pairs = np.vstack(edges)
    graph = csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    out = np.asarray(component).copy()
    next_label = int(out.max()) + 1 if n else 0
    for comp in np.unique(out):
        members = np.nonzero(out == comp)[0]
        if 2 < len(members) <= MAX_AVERAGED:
            parts = _average_linkage(members, vectors, links)
            for part in np.unique(parts)[1:]:
                out[members[parts == part]] = next_label
                next_label += 1
    return out


def _link_vectors(n: int, node: np.ndarray, labels: pd.Series) -> Any:
    """Per distinct wording, the L2-normalised counts of what product linked requests so worded to."""
    from scipy.sparse import coo_matrix
    from sklearn.preprocessing import normalize

    linked = labels.notna().to_numpy()
    if not linked.any():
        return None
    codes, uniques = pd.factorize(labels[linked])
    counts = coo_matrix((np.ones(int(linked.sum())), (node[linked], codes)), shape=(n, len(uniques))).tocsr()
    return normalize(counts)


def _average_linkage(members: np.ndarray, vectors: Any, links: Any) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    similarity = np.zeros((len(members), len(members)))
    for matrix, threshold in ((vectors, TEXT_SIMILARITY), (links, LINK_SIMILARITY)):
        if matrix is not None:
            part = matrix[members]
            # scaled so that each kind's own threshold lands on the same cut
            similarity = np.maximum(similarity, (part @ part.T).toarray() * (CUT / threshold))
    distance = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return np.asarray(fcluster(tree, t=1.0 - CUT + 1e-9, criterion="distance")) - 1


def _pairs_at_least(x: Any, threshold: float) -> np.ndarray:
    """Index pairs (i, j) of rows of the L2-normalised sparse `x` whose cosine is ≥ threshold."""
    similarity = (x @ x.T).tocoo()
    keep = similarity.data >= threshold - 1e-12
    return np.column_stack([similarity.row[keep], similarity.col[keep]]).astype(np.int64)


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(set(ENGLISH_STOP_WORDS) | {_fold(w) for w in ENGLISH_STOP_WORDS})


def _name_components(component: np.ndarray, node: np.ndarray, requests: pd.DataFrame,
                     features: pd.DataFrame) -> tuple[dict[int, str], dict[str, str]]:
    """A key and a name per component: its features' theme, else its most frequent wording."""
    feature_theme = features.set_index("feature_id")["theme"]
    frame = pd.DataFrame({"component": component[node], "title": requests["title"].astype("object").fillna(""),
                          "feature_theme": requests["feature_id"].map(feature_theme)})
    sizes = frame["component"].value_counts()
    keys: dict[int, str] = {}
    names: dict[str, str] = {}
    for comp in sizes.index:  # largest first, so the largest keeps an unadorned key
        part = frame[frame["component"] == comp]
        themed = part["feature_theme"].dropna()
        themed = themed[themed.astype(str).str.strip() != ""]
        name = str(themed.value_counts().index[0]) if len(themed) else _most_frequent(part["title"])
        key = base = slug(name)
        suffix = 2
        while key in names:
            key, suffix = f"{base}-{suffix}", suffix + 1
        keys[int(comp)] = key
        names[key] = name
    return keys, names


def _most_frequent(titles: pd.Series) -> str:
    counts = Counter(t.strip() for t in titles if t.strip())
    return min(counts, key=lambda t: (-counts[t], t)) if counts else "untitled"


# -- applying a product manager's edits ------------------------------------------------------------------
def _apply(assignment: pd.Series, wording: pd.Series, overrides: ThemeOverrides, names: dict[str, str],
           notes: list[str]) -> pd.Series:
    assignment = assignment.copy()
    present = set(assignment)
    for source, target in overrides.merges.items():
        if source not in present:
            notes.append(f"merge of {source!r} into {target!r} not applied: no theme {source!r}")
            continue
        if target not in present:
            notes.append(f"merge of {source!r} into {target!r} not applied: no theme {target!r}")
            continue
        assignment[assignment == source] = target
        present = set(assignment)
    for split in overrides.splits:
        words = [normalise(w) for w in split.words if normalise(w)]
        chosen = (assignment == split.theme) & wording.map(lambda t, found=tuple(words): any(_contains(t, w)
                                                                                              for w in found))
        if not chosen.any():
            notes.append(f"split of {split.theme!r} into {split.name!r} not applied: no request of {split.theme!r} "
                         f"mentions {', '.join(split.words)}")
            continue
        key = slug(split.name)
        assignment[chosen] = key
        names[key] = split.name
    assignment = _apply_pins(assignment, dict(overrides.pins), names, notes)
    for key, name in overrides.renames.items():
        if key in set(assignment):
            names[key] = name
        else:
            notes.append(f"rename of {key!r} to {name!r} not applied: no theme {key!r}")
    return assignment


def _contains(text: str, words: str) -> bool:
    return f" {words} " in f" {text} "


def _apply_pins(assignment: pd.Series, pins: dict[str, str], names: dict[str, str], notes: list[str]) -> pd.Series:
    assignment = assignment.copy()
    for request_id, target in pins.items():
        if request_id not in assignment.index:
            notes.append(f"pin of {request_id} to {target!r} not applied: no request {request_id}")
            continue
        key = target if target in names else slug(target)
        names.setdefault(key, target)
        assignment[request_id] = key
    return assignment


# -- what each theme holds ------------------------------------------------------------------------------
def _feature_themes(features: pd.DataFrame, requests: pd.DataFrame, assignment: pd.Series, node: np.ndarray,
                    words: tuple[Any, Any], names: dict[str, str]) -> dict[str, str]:
    """Each feature's theme: where most requests linked to it sit; else the theme its own `theme` names; else
    the theme of the wording closest to its title (TF-IDF cosine ≥ `TITLE_SIMILARITY`: a title shares few
    words, so one rare word in common must not be enough)."""
    linked = pd.DataFrame({"feature_id": requests["feature_id"].to_numpy(),
                           "theme": assignment.to_numpy()}).dropna(subset=["feature_id"])
    majority = _most_common(linked, "feature_id", "theme")
    by_name = {normalise(name): key for key, name in names.items() if key in set(assignment)}
    out: dict[str, str] = {}
    pending: list[tuple[str, str]] = []
    for feature_id, theme, title in zip(features["feature_id"], features["theme"], features["title"], strict=True):
        if feature_id in majority:
            out[str(feature_id)] = majority[feature_id]
        elif isinstance(theme, str) and normalise(theme) in by_name:
            out[str(feature_id)] = by_name[normalise(theme)]
        else:
            pending.append((str(feature_id), normalise(str(title))))
    vectorizer, vectors = words
    if pending and vectorizer is not None:
        theme_of_text = _most_common(pd.DataFrame({"text": node, "theme": assignment.to_numpy()}), "text", "theme")
        similarity = (vectorizer.transform([title for _, title in pending]) @ vectors.T).toarray()
        for (feature_id, _), row in zip(pending, similarity, strict=True):
            best = int(np.argmax(row))
            if row[best] >= TITLE_SIMILARITY - 1e-12:
                out[feature_id] = theme_of_text[best]
    return out


def _most_common(frame: pd.DataFrame, key: str, value: str) -> dict[Any, str]:
    """Per `key`, its most frequent `value` (ties to the first in sort order)."""
    counts = frame.groupby([key, value]).size().rename("n").reset_index()
    counts = counts.sort_values([key, "n", value], ascending=[True, False, True], kind="stable")
    return {k: str(v) for k, v in zip(counts.drop_duplicates(key)[key], counts.drop_duplicates(key)[value],
                                      strict=True)}


def _summaries(requests: pd.DataFrame, assignment: pd.Series, wording: pd.Series, names: dict[str, str],
               feature_themes: dict[str, str], pinned: set[str]) -> list[Theme]:
    frame = pd.DataFrame({"theme": assignment.to_numpy(), "title": requests["title"].astype("object").fillna(""),
                          "wording": wording.to_numpy(), "account_id": requests["account_id"].to_numpy(),
                          "opportunity_id": requests["opportunity_id"].to_numpy(),
                          "pinned": requests["request_id"].isin(pinned).to_numpy()})
    answered: dict[str, list[str]] = {}
    for feature_id, key in sorted(feature_themes.items()):
        answered.setdefault(key, []).append(feature_id)
    themes = []
    for group, part in frame.groupby("theme", sort=False):
        key = str(group)
        counts = part.groupby("wording")["title"].agg(["size", "first"]).sort_values(["size", "first"],
                                                                                    ascending=[False, True])
        themes.append(Theme(key, names.get(key, key), len(part), int(part["account_id"].nunique()),
                            int(part["opportunity_id"].nunique()), tuple(counts["first"].head(PHRASINGS_SHOWN)),
                            tuple(answered.get(key, [])), int(part["pinned"].sum())))
    return sorted(themes, key=lambda t: (-t.requests, t.key))
