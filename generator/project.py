"""A loaded project: settings, validated content, templates, the plan and its inputs hashes."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment

from generator.content import ContentTree, load_content
from generator.errors import UnknownDocumentError
from generator.fingerprint import Fingerprinter
from generator.plan import DocumentSpec, plan_documents
from generator.settings import Settings
from generator.templating import check_templates, make_environment
from templates import STATIC_DIR, TEMPLATES_DIR


@dataclass(frozen=True)
class Project:
    settings: Settings
    tree: ContentTree
    env: Environment
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
        return [s for s in self.specs if s.key.kind == "page"]


def load_project(settings: Settings) -> Project:
    """Validate content and templates and plan every document; raises before any output."""
    tree = load_content(settings.content_dir)
    env = make_environment(settings.templates_dir or TEMPLATES_DIR)
    check_templates(env)
    specs = plan_documents(tree)
    printer = Fingerprinter(tree, env, STATIC_DIR, settings.base_url)
    return Project(settings, tree, env, specs, {s.key.id: printer.inputs_hash(s) for s in specs})
