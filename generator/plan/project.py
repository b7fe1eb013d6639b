"""A loaded project: settings, validated content, templates, the plan and its inputs hashes."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment

from generator.content.loading import load_content
from generator.content.tree import ContentTree
from generator.errors import ContentError, Problem, UnknownDocumentError
from generator.i18n import SOURCE_LANGUAGE, catalog_path, untranslated
from generator.plan.documents import DocumentSpec, plan_documents
from generator.plan.fingerprints import Fingerprinter
from generator.plan.kinds import PAGE
from generator.settings import Settings
from generator.templating import check_templates, make_environment
from templates import STATIC_DIR, TEMPLATES_DIR


@dataclass(frozen=True)
class Project:
    settings: Settings
    tree: ContentTree
    envs: dict[str, Environment]
    """One Jinja environment per language."""
    specs: list[DocumentSpec]
    hashes: dict[str, str]
    """Inputs hash of every planned document, by document id."""

    def spec(self, document: str) -> DocumentSpec:
        for spec in self.specs:
            if spec.key.id == document:
                return spec
        raise UnknownDocumentError(
            f"no such document in the plan: {document!r} (see `carepress list`)")

    @property
    def pages(self) -> list[DocumentSpec]:
        return [s for s in self.specs if s.key.kind == PAGE.id]


def load_project(settings: Settings) -> Project:
    """Validate content and templates and plan every document; raises before any output."""
    tree = load_content(settings.content_dir, settings.language_codes)
    templates = settings.templates_dir or TEMPLATES_DIR
    _check_catalogs(tree.languages)
    envs = {lang: make_environment(templates, lang) for lang in tree.languages}
    check_templates(envs[SOURCE_LANGUAGE])
    specs = plan_documents(tree)
    printer = Fingerprinter(tree, envs[SOURCE_LANGUAGE], STATIC_DIR, settings.base_url)
    return Project(settings, tree, envs, specs, {s.key.id: printer.inputs_hash(s) for s in specs})


def _check_catalogs(languages: tuple[str, ...]) -> None:
    """Every interface string translated: a consent form never carries English in Spanish."""
    problems = [Problem(catalog_path(lang).split("/templates/", 1)[-1], repr(message),
                        f"no {lang!r} translation")
                for lang in languages for message in untranslated(lang)]
    if problems:
        raise ContentError([Problem(f"templates/{p.file}", p.field, p.message) for p in problems])
