"""Near-identical location pages ("doorway pages"): compare every pair by word shingles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import combinations

SHINGLE_WORDS = 5
DEFAULT_MAX_SHARE = 0.6


class _MainText(HTMLParser):
    """The visible words inside <main>, where a page's own content is."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main" or self.depth:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.words.extend(re.findall(r"\w+", data.lower()))


def shingles(html: str, own_names: list[str]) -> set[tuple[str, ...]]:
    """5-word shingles of the page's main text, with its own place names masked, so that two
    pages that differ only by the name of the place count as identical."""
    parser = _MainText()
    parser.feed(html)
    text = " ".join(parser.words)
    for name in sorted(own_names, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name.lower())}\b", "<place>", text)
    words = text.split()
    return {tuple(words[i:i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def share(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """Jaccard similarity: shared shingles over all shingles of the pair."""
    return len(a & b) / len(a | b) if a | b else 1.0


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    share: float

    def __str__(self) -> str:
        return (f"{self.first} and {self.second} share {self.share:.0%} of their text "
                "(doorway pages: give each place its own content)")


def similar_pairs(pages: dict[str, set[tuple[str, ...]]], groups: dict[str, str],
                  max_share: float = DEFAULT_MAX_SHARE) -> list[Pair]:
    """Every pair of pages in the same group (therapy and language) above `max_share`."""
    found = []
    for first, second in combinations(sorted(pages), 2):
        if groups[first] == groups[second]:
            value = share(pages[first], pages[second])
            if value > max_share:
                found.append(Pair(first, second, value))
    return sorted(found, key=lambda p: -p.share)
