"""Reading grade of every text a patient reads, measured rather than hoped for.

English: Flesch-Kincaid grade. Spanish: Crawford's formula, a grade-level (years of schooling)
measure built for Spanish text. Both through textstat.

Documents are graded on their rendered text, template strings included, the way the printed
form shows it: each section, the whole document, and on a consent form every statement the
patient signs or initials (marked `data-signed` in the template). Every paragraph, list item,
heading and table cell counts as a sentence, as a reader meets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import textstat
from markdown_it import MarkdownIt

from generator.content.schema import Therapy
from generator.content.tree import ContentTree
from generator.plan.documents import DocumentSpec
from generator.plan.kinds import CLINIC_KINDS
from generator.plan.project import Project
from generator.render.contexts import HANDOUT_SECTIONS, clinic_document_context
from generator.settings import Settings
from generator.templating import render_template

_MEASURES: dict[str, Callable[[str], float]] = {
    "es": textstat.crawford,
}
_ENDS = ".!?:;"


@dataclass(frozen=True)
class Grade:
    what: str
    """e.g. 'handout <clinic>/<therapy>' or 'therapy <therapy> summary'."""
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


def _as_sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in _ENDS else text + "."


def sentences(markdown: str) -> str:
    """Plain text in which each paragraph and list item ends like a sentence; a line break
    inside a paragraph is a space, never glue between two words."""
    parts = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "inline":
            text = "".join(c.content if c.type in ("text", "code_inline") else " "
                           for c in token.children or []
                           if c.type in ("text", "code_inline", "softbreak", "hardbreak"))
            if text.strip():
                parts.append(_as_sentence(text))
    return " ".join(parts)


def _flesch_kincaid(text: str) -> float:
    """Flesch-Kincaid grade from textstat's own counts. textstat 0.7's function rounds the
    syllables per word to 0.1 first, which moves a grade by 1.2 when one syllable tips it."""
    words = int(textstat.lexicon_count(text))
    if not words:
        return 0.0
    sentences, syllables = int(textstat.sentence_count(text)), int(textstat.syllable_count(text))
    return 0.39 * words / sentences + 11.8 * syllables / words - 15.59


def grade_text(text: str, lang: str) -> float:
    """The grade of plain text as it is (the caller decides where sentences end)."""
    textstat.set_lang(lang)  # textstat keeps the language globally; set it every time
    return round(float(_MEASURES.get(lang, _flesch_kincaid)(text)), 1)


def grade(markdown: str, lang: str) -> float:
    return grade_text(sentences(markdown), lang)


# --- rendered documents ----------------------------------------------------------------------

_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "td", "th", "figcaption", "caption", "dt", "dd",
           "div", "section", "ul", "ol", "table", "tr", "main", "header", "footer", "form"}
_SENTENCES = {"p", "li"}
"""Blocks a reader takes as a sentence of their own; a heading or a table cell runs into the
text after it, in the PDF's text as in textstat's count."""
_HIDDEN = {"head", "style", "script", "svg", "title", "template"}


@dataclass
class _Unit:
    text: str
    section: str
    signed: str


@dataclass
class DocumentText:
    """A rendered document's text in reading units, each with its section and, when the
    patient signs or initials it, the statement it belongs to."""

    units: list[_Unit] = field(default_factory=list)

    def whole(self) -> str:
        return " ".join(u.text for u in self.units)

    def sections(self) -> dict[str, str]:
        found: dict[str, list[str]] = {}
        for unit in self.units:
            if unit.section:
                found.setdefault(unit.section, []).append(unit.text)
        return {name: " ".join(texts) for name, texts in found.items()}

    def signed(self) -> dict[str, str]:
        found: dict[str, list[str]] = {}
        for unit in self.units:
            if unit.signed:
                found.setdefault(unit.signed, []).append(unit.text)
        return {name: " ".join(texts) for name, texts in found.items()}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = DocumentText()
        self._buffer: list[str] = []
        self._stack: list[tuple[str, str, str]] = []
        """(tag, section heading id, signed statement) of each open element."""
        self._headings: dict[str, str] = {}
        self._hidden = 0
        self._heading_id = ""

    def _context(self) -> tuple[str, str]:
        section = next((s for _, s, _ in reversed(self._stack) if s), "")
        signed = next((g for _, _, g in reversed(self._stack) if g), "")
        return section, signed

    def _flush(self, sentence: bool = False) -> None:
        text = " ".join("".join(self._buffer).split())
        text = _as_sentence(text) if sentence else text
        self._buffer = []
        if text:
            section, signed = self._context()
            self.doc.units.append(_Unit(text, section, signed))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
            return
        if tag in ("input", "br", "img", "meta", "link"):
            if tag == "br":
                self._buffer.append(" ")
            return
        attributes = dict(attrs)
        if tag in _BLOCKS:
            self._flush()
        section = (attributes.get("aria-labelledby") or "") if tag == "section" else ""
        self._stack.append((tag, section.split()[0] if section else "",
                            attributes.get("data-signed") or ""))
        if tag in ("h1", "h2", "h3") and attributes.get("id"):
            self._heading_id = attributes["id"] or ""

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden -= 1
            return
        if tag in _BLOCKS:
            if tag in ("h1", "h2", "h3") and self._heading_id:
                self._headings[self._heading_id] = " ".join("".join(self._buffer).split())
                self._heading_id = ""
            self._flush(sentence=tag in _SENTENCES)
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._buffer.append(data)

    def result(self) -> tuple[DocumentText, dict[str, str]]:
        self._flush()
        return self.doc, self._headings


def document_text(html: str) -> tuple[DocumentText, dict[str, str]]:
    """The reading units of rendered HTML, and each section heading's text by its id."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.result()


def rendered(project: Project, spec: DocumentSpec) -> str:
    """The HTML the PDF is printed from (the print context), without rendering the PDF."""
    key = spec.key
    context = clinic_document_context(project.tree, key, spec.outputs[-1].path, True,
                                      project.settings.base_url)
    return render_template(project.envs[key.lang], spec.template or "", context)


def grade_limits(settings: Settings) -> dict[str, float]:
    """The highest reading grade allowed, by what is graded (CAREPRESS_READING_GRADE_*)."""
    return {"handout summary": settings.reading_grade_handout_summary,
            "handout": settings.reading_grade_handout,
            "consent": settings.reading_grade_consent,
            "signed": settings.reading_grade_signed}


def document_grades(project: Project, limits: dict[str, float]) -> list[Grade]:
    """Every handout and consent form of each clinic, therapy and language: the whole
    document, each section, and (consent) each signed or initialled statement."""
    grades = []
    for spec in project.specs:
        key = spec.key
        if key.kind not in CLINIC_KINDS:
            continue
        text, headings = document_text(rendered(project, spec))
        where = f"{key.kind} {key.clinic}/{key.therapy}"
        grades.append(Grade(where, key.lang, grade_text(text.whole(), key.lang),
                            limits[key.kind]))
        for section, body in text.sections().items():
            if section == "summary-title":
                grades.append(Grade(f"handout summary {key.clinic}/{key.therapy}", key.lang,
                                    grade_text(body, key.lang), limits["handout summary"]))
            else:
                grades.append(Grade(f"{where} section {headings.get(section, section)!r}",
                                    key.lang, grade_text(body, key.lang)))
        for statement, body in text.signed().items():
            grades.append(Grade(f"{where} signed {statement!r}", key.lang,
                                grade_text(body, key.lang), limits["signed"]))
    return grades


# --- content fields --------------------------------------------------------------------------


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
    """Each content field on its own, to find the one that raises a document's grade."""
    grades = []
    for lang in tree.languages:
        for tid in tree.therapies:
            for name, text in _therapy_texts(tree.therapy(tid, lang)):
                grades.append(Grade(f"therapy {tid} {name}", lang, grade(text, lang)))
        for lid in tree.locations:
            location = tree.location(lid, lang)
            grades.append(Grade(f"location {lid} summary", lang, grade(location.summary, lang)))
            if location.local_notes:
                notes = "\n\n".join(location.local_notes)
                grades.append(Grade(f"location {lid} local_notes", lang, grade(notes, lang)))
            for tid, note in sorted(location.therapy_notes.items()):
                grades.append(Grade(f"location {lid} therapy_notes.{tid}", lang,
                                    grade(note, lang)))
    return grades

