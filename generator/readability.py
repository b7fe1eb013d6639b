"""Reading grade of every text, measured rather than hoped for.

English: Flesch-Kincaid grade. Spanish: Crawford's formula, a grade-level (years of schooling)
measure built for Spanish text. Both through textstat, on plain text where every paragraph and
list item counts as a sentence, as a reader meets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import textstat
from markdown_it import MarkdownIt

from generator.content import ContentTree
from generator.context import HANDOUT_SECTIONS
from generator.schema import Therapy

DEFAULT_LIMITS = {"handout summary": 6.0, "handout": 8.0, "consent": 10.0}
_MEASURES: dict[str, Callable[[str], float]] = {
    "en": textstat.flesch_kincaid_grade,
    "es": textstat.crawford,
}


@dataclass(frozen=True)
class Grade:
    what: str
    """e.g. 'handout <clinic>/<therapy>/es' or 'therapies/<therapy>.yaml summary'."""
    lang: str
    grade: float
    limit: float | None = None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.grade > self.limit

    def __str__(self) -> str:
        limit = f" (limit {self.limit:g})" if self.limit is not None else ""
        flag = "  OVER" if self.over else ""
        return f"grade {self.grade:5.1f}  {self.what} [{self.lang}]{limit}{flag}"


def sentences(markdown: str) -> str:
    """Plain text in which each paragraph and list item ends like a sentence."""
    parts = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "inline":
            text = " ".join("".join(c.content for c in token.children or []
                                    if c.type in ("text", "code_inline")).split())
            if text:
                parts.append(text if text[-1] in ".!?:;" else text + ".")
    return " ".join(parts)


def grade(markdown: str, lang: str) -> float:
    textstat.set_lang(lang)  # textstat keeps the language globally; set it every time
    return round(float(_MEASURES.get(lang, textstat.flesch_kincaid_grade)(sentences(markdown))), 1)


def _therapy_texts(therapy: Therapy) -> Iterator[tuple[str, str]]:
    yield "summary", therapy.summary
    for name in HANDOUT_SECTIONS:
        yield f"sections.{name}.body", getattr(therapy.sections, name).body
    for group in ("side_effects", "risks"):
        items = getattr(therapy, group)
        yield f"{group}.intro", items.intro
        for item in items.items:
            yield f"{group}.{item.id}", f"{item.name}. {item.detail}"


def field_grades(tree: ContentTree) -> list[Grade]:
    grades = []
    for lang in tree.languages:
        for tid in tree.therapies:
            for field, text in _therapy_texts(tree.therapy(tid, lang)):
                grades.append(Grade(f"therapy {tid} {field}", lang, grade(text, lang)))
        for lid in tree.locations:
            location = tree.location(lid, lang)
            grades.append(Grade(f"location {lid} summary", lang, grade(location.summary, lang)))
    return grades


def document_grades(tree: ContentTree, limits: dict[str, float]) -> list[Grade]:
    """The whole handout and consent text of each clinic, therapy and language."""
    grades = []
    for lang in tree.languages:
        for cid, clinic in tree.clinics.items():
            for tid in clinic.therapies:
                therapy = tree.therapy(tid, lang)
                texts = [text for _, text in _therapy_texts(therapy)]
                local = tree.clinic(cid, lang)
                protocol = local.protocols[tid]
                own = [protocol.driving, protocol.preparation or "", local.emergency]
                where = f"{cid}/{tid}"
                grades += [
                    Grade(f"handout summary {where}", lang, grade(therapy.summary, lang),
                          limits["handout summary"]),
                    Grade(f"handout {where}", lang, grade("\n\n".join(texts + own), lang),
                          limits["handout"]),
                    Grade(f"consent {where}", lang, grade("\n\n".join(texts[1:] + own), lang),
                          limits["consent"]),
                ]
    return grades
