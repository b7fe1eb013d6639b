"""Incremental, reproducible and atomic builds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from generator.errors import ContentError, TemplateError
from generator.files import TMP_SUFFIX
from generator.plan.project import load_project
from generator.publish.storage import STAGING
from tests.conftest import (
    REPO,
    broken_png,
    make_settings,
    manifest,
    published_files,
    run_build,
    run_cli,
    snapshot,
    use_logo,
)
from tests.services import forked_children, running, wait_for

MANIFEST_FIELDS = {"path", "kind", "format", "clinic", "therapy", "location", "lang", "sha256",
                   "inputs", "version", "document"}


def set_colour(content: Path, clinic: str, colour: str) -> None:
    path = content / "clinics" / f"{clinic}.yaml"
    data = yaml.safe_load(path.read_text())
    data["colors"]["primary"] = colour
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_manifest_lists_every_file_with_its_hash(built, project):
    data = manifest(built)
    paths = {e["path"] for e in data["documents"]}
    planned = {o.path for s in project.specs for o in s.outputs}
    assert paths == planned
    records = {"manifest.json", "consent-versions.json",
               *(f"consent-versions/{tid}/{t.consent_version}.json"
                 for tid, t in project.tree.therapies.items())}
    on_disk = set(snapshot(built)) - records
    assert on_disk == planned
    assert records <= set(snapshot(built))
    for entry in data["documents"]:
        assert set(entry) == MANIFEST_FIELDS
        assert entry["inputs"] == project.hashes[entry["document"]]
    kinds = {(e["kind"], e["format"]) for e in data["documents"]}
    assert {("handout", "pdf"), ("handout", "html"), ("consent", "pdf"), ("consent", "html"),
            ("page", "html"), ("sitemap", "xml")} <= kinds


@pytest.mark.slow
def test_noop_rebuild_renders_nothing(content, tmp_path):
    out = tmp_path / "out"
    first = run_build(content, out)
    before = {p: p.stat().st_mtime_ns for p in published_files(out) if p.is_file()}
    second = run_build(content, out)
    assert first.built and not first.failed
    assert second.built == []
    assert sorted(second.unchanged) == sorted(first.built)
    after = {p: p.stat().st_mtime_ns for p in published_files(out) if p.is_file()}
    changed = [p for p in before if before[p] != after.get(p)]
    assert changed == []


@pytest.mark.slow
def test_one_clinic_colour_change_renders_only_that_clinic(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    set_colour(content, "prairie-mind", "#7a1f3d")
    report = run_build(content, out)
    assert sorted(report.built) == [f"{kind}/prairie-mind/ketamine/{lang}"
                                    for kind in ("consent", "handout") for lang in ("en", "es")]
    html = (out / "clinics/prairie-mind/ketamine/en/handout.html").read_text()
    assert "--brand: #7a1f3d" in html


@pytest.mark.slow
def test_therapy_change_renders_every_document_showing_it(content, tmp_path, project):
    out = tmp_path / "out"
    run_build(content, out)
    path = content / "therapies" / "ketamine.yaml"
    text = path.read_text().replace("Ketamine is a medicine that", "Ketamine is a drug that")
    path.write_text(text)
    report = run_build(content, out)
    expected = sorted(s.key.id for s in project.specs
                      if s.key.kind in ("sitemap", "home") or (
                          s.key.therapy == "ketamine"
                          and s.key.kind in ("handout", "consent", "page")))
    assert sorted(report.built) == expected


@pytest.mark.slow
def test_deleted_output_file_is_rebuilt(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    (out / "site/en/ketamine/orland-park/index.html").unlink()
    assert run_build(content, out).built == ["page/ketamine/orland-park/en"]


@pytest.mark.slow
def test_removed_clinic_documents_are_removed(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    clinic = content / "clinics" / "riverwalk-wellness.yaml"
    data = yaml.safe_load(clinic.read_text())
    clinic.unlink()
    (content / "clinics" / "riverwalk-wellness.es.yaml").unlink()
    assert "riverwalk-wellness" in data["logo"]
    report = run_build(content, out)
    assert "clinics/riverwalk-wellness/ketamine/en/consent.pdf" in report.removed
    assert not (out / "clinics/riverwalk-wellness/ketamine/en/consent.pdf").exists()
    assert all(e["clinic"] != "riverwalk-wellness" for e in manifest(out)["documents"])


@pytest.mark.slow
def test_builds_in_separate_folders_and_processes_are_byte_identical(built, tmp_path):
    other = tmp_path / "elsewhere" / "out"
    run_cli("build", "--out", str(other), "--quiet", "--jobs", "2")
    assert snapshot(other) == snapshot(built)


def test_pdf_dates_come_from_content_not_the_clock(built, project):
    from pypdf import PdfReader

    reviewed = project.tree.therapies["ketamine"].review.reviewed_on
    reader = PdfReader(built / "clinics/prairie-mind/ketamine/en/handout.pdf")
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"].startswith(f"D:{reviewed:%Y%m%d}")


@pytest.mark.slow
def test_bad_content_stops_before_anything_is_written(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    before = snapshot(out)
    set_colour(content, "prairie-mind", "not-a-colour")
    with pytest.raises(ContentError):
        run_build(content, out)
    assert snapshot(out) == before


@pytest.mark.slow
def test_template_error_stops_before_anything_is_written(content, tmp_path):
    import shutil

    from generator.plan.project import load_project
    from generator.publish.build import build
    from generator.publish.runners import in_process_runner
    from templates import TEMPLATES_DIR
    from tests.conftest import make_settings

    out = tmp_path / "out"
    run_build(content, out)
    before = snapshot(out)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    page = templates / "page.html.j2"
    page.write_text(page.read_text().replace("<h1>{{ heading }}</h1>",
                                             "<h1>{{ no_such_value }}</h1>"))
    set_colour(content, "prairie-mind", "#336699")  # make clinic documents stale as well
    project = load_project(make_settings(content, out, templates_dir=templates))
    with pytest.raises(TemplateError, match="no_such_value"):
        build(project, out, in_process_runner(project))
    assert snapshot(out) == before
    assert not (out / STAGING).exists()


def test_template_syntax_error_is_caught_before_rendering(tmp_path, content):
    import shutil

    from generator.plan.project import load_project
    from templates import TEMPLATES_DIR
    from tests.conftest import make_settings

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "consent.html.j2").write_text("{% if %}")
    with pytest.raises(TemplateError, match=r"templates/consent.html.j2:1"):
        load_project(make_settings(content, tmp_path / "out", templates_dir=templates))


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_killed_build_leaves_previous_output_and_next_build_cleans_up(content, tmp_path, jobs):
    out = tmp_path / "out"
    run_build(content, out)
    before = snapshot(out)
    for clinic in ("prairie-mind", "riverwalk-wellness"):
        set_colour(content, clinic, "#224466")
    build = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "build", "--content", str(content), "--out", str(out),
         "--jobs", jobs, "--quiet"], cwd=REPO, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    staging = out / STAGING
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and build.poll() is None:
        if staging.exists() and any(p.suffix == ".pdf" for p in staging.rglob("*")):
            break
        time.sleep(0.005)
    assert build.poll() is None, "build finished before it could be killed"
    renderers = forked_children(build.pid)
    assert len(renderers) == (2 if jobs == "2" else 0), renderers
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    # Its render processes go with it: they would hold the build lock for good.
    wait_for(lambda: not any(map(running, renderers)), 10,
             "the killed build's render processes to end")
    after = snapshot(out)
    leftovers = {p for p in after if p not in before}
    assert all(p.startswith(STAGING) for p in leftovers)
    assert {p: b for p, b in after.items() if p in before} == before
    report = run_build(content, out)
    clinic_documents = [s for s in load_project(make_settings(content, out)).specs
                        if s.key.kind in ("handout", "consent")]
    assert len(report.built) == len(clinic_documents) and not report.failed
    names = [p.name for p in out.rglob("*")]
    assert not (out / STAGING).exists()
    assert not [n for n in names if n.endswith(TMP_SUFFIX)]


@pytest.mark.slow
def test_undecodable_logo_fails_both_documents_never_renders_without_it(content, tmp_path):
    # WeasyPrint caches a failed image as missing: the second document must fail as well,
    # not silently print without the clinic's logo.
    use_logo(content, "riverwalk-wellness", "broken.png", broken_png())
    out = tmp_path / "out"
    report = run_build(content, out)
    assert sorted(report.failed) == [f"{kind}/riverwalk-wellness/{therapy}/{lang}"
                                     for kind in ("consent", "handout")
                                     for therapy in ("esketamine", "ketamine")
                                     for lang in ("en", "es")]
    assert all("Failed to load image" in e for e in report.failed.values())
    assert "handout/prairie-mind/ketamine/en" in report.built


def test_compiled_templates_are_shared_and_an_edited_template_is_compiled_again(tmp_path):
    import shutil

    from generator.templating import _compiled_templates, make_environment
    from templates import TEMPLATES_DIR

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    cache = _compiled_templates()
    assert cache is not None, "no template cache on this machine"
    first = make_environment(templates, "en")
    assert first.bytecode_cache is cache
    bucket = cache.get_bucket(first, "sitemap.xml.j2", str(templates / "sitemap.xml.j2"),
                              (templates / "sitemap.xml.j2").read_text())
    first.get_template("sitemap.xml.j2")
    assert Path(cache._get_cache_filename(bucket)).is_file()  # type: ignore[attr-defined]

    page = templates / "sitemap.xml.j2"
    page.write_text(page.read_text().replace("<urlset", "<!-- edited -->\n<urlset", 1))
    again = make_environment(templates, "en")  # a reload: a new environment, same files
    rendered = again.get_template("sitemap.xml.j2").render(urls=[])
    assert "<!-- edited -->" in rendered
