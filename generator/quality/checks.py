"""The checks `validate` reports and `--strict` enforces: reading grade, review dates, doorway
pages, translation fallbacks and freshness, clinical reviewers and consent versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from generator.content.tree import EntryRef
from generator.errors import Problem
from generator.plan.project import Project
from generator.publish import governance
from generator.quality.doorway import Pair, shingles, similar_pairs
from generator.quality.readability import Grade, document_grades, field_grades, grade_limits
from generator.render.documents import DocumentRenderer


@dataclass
class QualityReport:
    grades: list[Grade] = field(default_factory=list)
    """Worst first."""
    overdue: list[Problem] = field(default_factory=list)
    doorways: list[Pair] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    versions: list[Problem] = field(default_factory=list)
    stale: list[Problem] = field(default_factory=list)
    """Translations made from an older English text (see generator.content.translations)."""
    unreviewed: list[Problem] = field(default_factory=list)
    """Therapies with no named clinical reviewer: `build --strict` does not publish them."""

    def failures(self, strict: bool, publishing: bool = False) -> list[str]:
        """What stops a build: consent versions always; the rest in --strict mode, and a
        missing clinical reviewer when --strict is about to publish."""
        found = [str(p) for p in self.versions]
        if strict:
            found += [f"reading {g}" for g in self.grades if g.over]
            found += [str(p) for p in self.overdue]
            found += [str(p) for p in self.doorways]
            found += [str(p) for p in self.stale]
        if strict and publishing:
            found += [str(p) for p in self.unreviewed]
        return found


def quality_report(project: Project, out_dir: Path, today: dt.date) -> QualityReport:
    limits = grade_limits(project.settings)
    grades = document_grades(project, limits) + field_grades(project.tree)
    return QualityReport(
        grades=sorted(grades, key=lambda g: (-(g.grade - (g.limit or 99)), -g.grade)),
        overdue=overdue_reviews(project, today),
        doorways=doorway_pairs(project),
        fallbacks=[f"{kind} {entry_id} [{lang}]: English text for {', '.join(fields)}"
                   for (kind, entry_id, lang), fields in sorted(project.tree.fallbacks.items())],
        versions=governance.problems(project.tree, governance.read_record(out_dir)),
        stale=[p for _, found in sorted(project.tree.stale.items()) for p in found],
        unreviewed=unreviewed(project),
    )


def unreviewed(project: Project) -> list[Problem]:
    tree = project.tree
    return [Problem(str(Path(tree.root.name)
                        / tree.files[EntryRef("therapy", tid)].relative_to(tree.root)),
                    "review.reviewer", "no named clinical reviewer (name and credentials); "
                    "--strict publishes only reviewed medical content")
            for tid, therapy in sorted(tree.therapies.items()) if therapy.review.reviewer is None]


def overdue_reviews(project: Project, today: dt.date) -> list[Problem]:
    tree = project.tree
    found = []
    for tid, therapy in sorted(tree.therapies.items()):
        if therapy.review.next_review < today:
            path = tree.files[EntryRef("therapy", tid)].relative_to(tree.root)
            found.append(Problem(f"{tree.root.name}/{path}", "review.next_review",
                                 f"medical review was due on {therapy.review.next_review}; "
                                 "have it reviewed and update the review dates"))
    return found


def doorway_pairs(project: Project) -> list[Pair]:
    tree = project.tree
    renderer = DocumentRenderer(project)
    pages, groups = {}, {}
    for spec in project.pages:
        key = spec.key
        location = tree.location(key.location, key.lang)
        names = [location.name, *([tree.location(location.state, key.lang).name]
                                  if location.state else [])]
        html = renderer.render(spec)[0].data.decode()
        pages[key.id] = shingles(html, names)
        groups[key.id] = f"{key.therapy}/{key.lang}"
    return similar_pairs(pages, groups, project.settings.doorway_max_share)
