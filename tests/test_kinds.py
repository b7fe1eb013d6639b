"""The document-kind table: ids, parsing, files and job order all come from it."""

from __future__ import annotations

import pytest

from generator.errors import UnknownDocumentError
from generator.plan.documents import DocumentKey
from generator.plan.kinds import KINDS, kind_of
from generator.publish.jobs import Job, costliest_first


def test_every_planned_id_parses_back_to_its_key(project):
    for spec in project.specs:
        assert DocumentKey.parse(spec.key.id) == spec.key
    assert {s.key.kind for s in project.specs} == set(KINDS)


def test_a_spec_writes_the_files_its_kind_names_each_in_its_extensions_format(project):
    for spec in project.specs:
        assert len(spec.outputs) == len(spec.key.document_kind.files)
        assert all(o.path.endswith(f".{o.format}") for o in spec.outputs)


def test_ids_name_only_the_parts_of_their_kind():
    assert DocumentKey.of("page", clinic="x", therapy="t", location="l", lang="es").id == \
        "page/t/l/es"
    assert DocumentKey.of("sitemap", lang="en") == DocumentKey("sitemap")
    with pytest.raises(UnknownDocumentError):
        DocumentKey.parse("handout/clinic/therapy")
    with pytest.raises(UnknownDocumentError):
        kind_of("brochure/x")


def test_pdf_jobs_go_first_consents_before_handouts():
    jobs = [Job(document, "", "", "") for document in
            ("sitemap", "page/t/l/en", "handout/c/t/en", "home/en", "consent/c/t/en")]
    assert [j.document for j in costliest_first(jobs)] == [
        "consent/c/t/en", "handout/c/t/en", "page/t/l/en", "sitemap", "home/en"]
