"""Which documents a build holds back because their translation is stale.

A consent form is what a patient signs: one built from a translation of an older English text
would have the patient sign a different risk under the same version number. So a translated
consent form whose therapy or clinic text is stale is not published; the last published file
of that language stays in the output, and the build reports why. Other documents are
published with the stale text and reported (`validate`, `build`); `--strict` refuses both.
"""

from __future__ import annotations

from generator.content.tree import ContentTree
from generator.errors import Problem
from generator.i18n import SOURCE_LANGUAGE
from generator.plan.documents import DocumentSpec
from generator.plan.kinds import CONSENT

# Translated fields a consent form does not print.
_NOT_IN_CONSENT = {"therapy": ("summary", "review.", "sources."), "clinic": ()}


def _in_consent(kind: str, field: str, therapy: str) -> bool:
    if field.startswith(_NOT_IN_CONSENT[kind]):
        return False
    if kind == "clinic" and field.startswith("protocols."):
        return field.split(".")[1] == therapy
    return True


def consent_problems(tree: ContentTree, clinic: str, therapy: str, lang: str) -> list[Problem]:
    """The stale translated fields a consent form of this clinic, therapy and language prints."""
    return [problem for kind, entry in (("therapy", therapy), ("clinic", clinic))
            for problem in tree.stale.get((kind, entry, lang), [])
            if _in_consent(kind, problem.field, therapy)]


def held_back(tree: ContentTree, specs: list[DocumentSpec]) -> dict[str, str]:
    """Document id → why it is not published in this build."""
    held = {}
    for spec in specs:
        key = spec.key
        if key.kind != CONSENT.id or key.lang == SOURCE_LANGUAGE:
            continue
        stale = consent_problems(tree, key.clinic, key.therapy, key.lang)
        if stale:
            fields = "; ".join(f"{p.file}:{p.line} {p.field}" if p.line else
                               f"{p.file} {p.field}" for p in stale)
            held[key.id] = (f"held back: its {key.lang!r} translation is stale ({fields}); "
                            "the last published version stays until the translation is "
                            "updated and marked reviewed (carepress translations list)")
    return held
