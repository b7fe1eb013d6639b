"""SVG logos are checked against an allow-list (deny by default), from the outside: the real
`carepress validate` and `carepress build`, and webhooks to the real server. Each refused logo
is one line naming the file and the offending element or attribute, and nothing is published."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.errors import RenderError
from generator.plan.project import load_project
from generator.publish.build import build
from generator.publish.runners import in_process_runner
from generator.render.documents import DocumentRenderer
from tests.api_client import Api, serve
from tests.conftest import CONTENT, REPO, make_settings, manifest, snapshot

pytestmark = pytest.mark.slow  # the real CLI and the real server, and builds of trees of their own

CLINIC = "prairie-mind"
HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="64" height="64" viewBox="0 0 64 64">')
ALLOWED = (Path(__file__).parent / "data" / "every-allowed-logo-feature.svg").read_bytes()


def svg(body: str) -> bytes:
    return f'{HEAD}<rect width="64" height="64" fill="#1f4e79"/>{body}</svg>'.encode()


BAD: dict[str, tuple[bytes, str]] = {  # case: (file, the end of the one-line refusal)
    "onload": (b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8" '
               b'onload="alert(1)"/>', "line 1: <svg> attribute onload is not allowed in a logo"),
    "onbegin": (svg('<g onbegin="alert(1)"/>'),
                "line 1: <g> attribute onbegin is not allowed in a logo"),
    "set-javascript": (svg('<set attributeName="href" to="javascript:alert(1)"/>'),
                       "line 1: element <set> is not allowed in a logo"),
    "animate": (svg('<circle r="4"><animate attributeName="r" to="8"/></circle>'),
                "line 1: element <animate> is not allowed in a logo"),
    "script": (svg("<script>alert(1)</script>"),
               "line 1: element <script> is not allowed in a logo"),
    "foreignObject": (svg('<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p>'
                          "</foreignObject>"),
                      "line 1: element <foreignObject> is not allowed in a logo"),
    "style-element": (svg("<style>rect { fill: red }</style>"),
                      "line 1: element <style> is not allowed in a logo"),
    "style-upper-url": (svg('<rect width="8" height="8" style="fill: URL(http://127.0.0.1/x)"/>'),
                        "line 1: <rect> attribute style: url() must point inside the SVG (#id), "
                        "not 'http://127.0.0.1/x'"),
    "style-escaped-url": (svg('<rect width="8" height="8" style="fill: \\75 rl(file:///etc/passwd)"/>'),
                          "line 1: <rect> attribute style: url() must point inside the SVG "
                          "(#id), not 'file:///etc/passwd'"),
    "fill-escaped-url": (svg('<rect width="8" height="8" fill="u\\72l(http://127.0.0.1/x)"/>'),
                         "line 1: <rect> attribute fill: url() must point inside the SVG (#id), "
                         "not 'http://127.0.0.1/x'"),
    "style-import": (svg('<rect width="8" height="8" style="@import url(#x); fill: red"/>'),
                     "line 1: <rect> attribute style: only property declarations are allowed, "
                     "not at-rule"),
    "xml-base": (svg('<g xml:base="http://127.0.0.1/"><use href="#a"/></g>'),
                 "line 1: <g> attribute xml:base is not allowed in a logo"),
    "external-href": (svg('<use href="http://127.0.0.1/logo.svg#a"/>'),
                      "line 1: <use> attribute href: must point inside the SVG (#id), not "
                      "'http://127.0.0.1/logo.svg#a'"),
    "use-external-file": (svg('<use xlink:href="riverwalk-wellness.svg#a"/>'),
                          "line 1: <use> attribute xlink:href: must point inside the SVG (#id), "
                          "not 'riverwalk-wellness.svg#a'"),
    "link": (svg('<a href="javascript:alert(1)"><rect width="8" height="8"/></a>'),
             "line 1: element <a> is not allowed in a logo"),
    "image": (svg('<image href="data:image/svg+xml;base64,PHN2Zy8+"/>'),
              "line 1: element <image> is not allowed in a logo"),
    "doctype-entities": (b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "aaaaaaaa">\n'
                         b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n' + svg("<text>&b;</text>"),
                         "line 2: a DOCTYPE or entity declaration is not accepted"),
    "utf16-doctype": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE svg>'.encode("utf-16")
                      + svg("").decode().encode("utf-16")[2:],
                      "not UTF-8 text (SVG logos must be UTF-8)"),
    "stylesheet-instruction": (b'<?xml-stylesheet href="http://127.0.0.1/x.css"?>' + svg(""),
                               "line 1: processing instruction <?xml-stylesheet?> is not "
                               "accepted"),
    "other-namespace": (svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>'),
                        "line 1: element <{http://www.w3.org/1999/xhtml}script> is not allowed "
                        "in a logo"),
    "no-namespace": (b'<svg width="8" height="8"><script>alert(1)</script></svg>',
                     'line 1: the root element <svg> is not an <svg> in the SVG namespace '
                     '(xmlns="http://www.w3.org/2000/svg")'),
    "use-loop": (svg('<defs><g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g></defs>'
                     '<use href="#a"/>'),
                 "references loop through #a (an element that draws itself)"),
    "pattern-loop": (svg('<pattern id="p" width="8" height="8" patternUnits="userSpaceOnUse">'
                         '<rect width="4" height="4" fill="url(#p)"/></pattern>'
                         '<rect width="64" height="64" fill="url(#p)"/>'),
                     "references loop through #p (an element that draws itself)"),
    "use-billion-laughs": (svg("<defs>" + '<g id="a0"><rect width="1" height="1"/></g>' + "".join(
        f'<g id="a{i}">' + f'<use href="#a{i - 1}"/>' * 10 + "</g>" for i in range(1, 7))
        + '</defs><use href="#a6"/>'),
        "draws more than 10000 elements through its references"),
}


def use_logo(content: Path, name: str, data: bytes) -> None:
    (content / "clinics" / "logos" / name).write_bytes(data)
    path = content / "clinics" / f"{CLINIC}.yaml"
    entry = yaml.safe_load(path.read_text())
    entry["logo"] = f"logos/{name}"
    path.write_text(yaml.safe_dump(entry, allow_unicode=True, sort_keys=False))


def carepress(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", sorted(BAD))
def test_validate_and_build_refuse_a_bad_svg_in_one_line_and_publish_nothing(
        case, content, built, tmp_path):
    data, reason = BAD[case]
    use_logo(content, "logo.svg", data)
    line = f"carepress: error: content/clinics/{CLINIC}.yaml: logo: logos/logo.svg: {reason}"
    checked = carepress("validate", "--content", str(content))
    assert (checked.returncode, checked.stderr.splitlines()) == (1, [line])
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = snapshot(out)
    built_again = carepress("build", "--content", str(content), "--out", str(out))
    assert (built_again.returncode, built_again.stderr.splitlines()) == (1, [line])
    assert snapshot(out) == before


def test_the_demo_logos_pass():
    checked = carepress("validate", "--content", str(CONTENT))
    assert checked.returncode == 0, checked.stderr


def test_every_allowed_feature_renders_and_is_published_byte_for_byte(content, built, tmp_path):
    """The control for the refusals: gradients, clip paths, masks, local <use>, symbols, text,
    transforms and allowed style declarations pass, draw without a WeasyPrint warning (a
    warning fails the document), and the published logo is the checked file exactly."""
    use_logo(content, "every-feature.svg", ALLOWED)
    out = tmp_path / "out"
    shutil.copytree(built, out)
    done = carepress("build", "--content", str(content), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / f"site/assets/logos/{CLINIC}.svg").read_bytes() == ALLOWED
    consents = [e for e in manifest(out)["documents"]
                if e["clinic"] == CLINIC and e["format"] == "pdf"]
    assert consents and all((out / e["path"]).stat().st_size > 0 for e in consents)


def test_a_logo_replaced_after_the_check_is_not_published(content, tmp_path):
    """What is published is what was checked: a logo swapped for a hostile one between loading
    the tree and rendering fails its documents instead of being copied or drawn."""
    project = load_project(make_settings(content, tmp_path / "out"))
    logo = project.tree.logo_path(CLINIC)
    logo.write_bytes(BAD["onload"][0])
    [spec] = [s for s in project.specs if s.key.kind == "logo" and s.key.clinic == CLINIC]
    with pytest.raises(RenderError, match="attribute onload is not allowed"):
        DocumentRenderer(project).render(spec)
    report = build(project, tmp_path / "out", in_process_runner(project))
    assert "onload is not allowed" in report.failed[f"logo/{CLINIC}"]
    published = tmp_path / "out" / f"site/assets/logos/{CLINIC}{logo.suffix}"
    assert not published.exists()


# --- webhooks ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("logos-api")
    shutil.copytree(CONTENT, tmp / "content")
    shutil.copytree(built, tmp / "out")
    for case, (data, _reason) in BAD.items():
        (tmp / "content" / "clinics" / "logos" / f"{case}.svg").write_bytes(data)
    (tmp / "content" / "clinics" / "logos" / "every-feature.svg").write_bytes(ALLOWED)
    started = serve(tmp, tmp / "content", tmp / "out")
    yield started
    started.stop()


def test_webhook_clinic_entries_with_a_bad_logo_are_refused(api):
    before = snapshot(api.content)
    clinic = api.entry("clinics", CLINIC)
    for case, (_data, reason) in sorted(BAD.items()):
        answer = api.signed({"type": "clinic", "id": CLINIC,
                             "data": {**clinic, "logo": f"logos/{case}.svg"}})
        assert answer.status_code == 422, (case, answer.text)
        assert answer.json()["problems"] == [
            {"file": f"clinics/{CLINIC}.yaml", "field": "logo", "line": None,
             "message": f"logos/{case}.svg: {reason}"}], case
    typo = api.signed({"type": "clinic", "id": CLINIC, "data": {**clinic, "logo": "logos/x"}})
    assert typo.status_code == 422
    assert [p["field"] for p in typo.json()["problems"]] == ["logo"]
    assert snapshot(api.content) == before


def test_a_webhook_with_an_allowed_logo_publishes_it_byte_for_byte(api):
    clinic = api.entry("clinics", CLINIC)
    answer = api.signed({"type": "clinic", "id": CLINIC,
                         "data": {**clinic, "logo": "logos/every-feature.svg"}})
    assert answer.status_code == 202, answer.text
    batch = api.finished(answer.json()["batch"])
    assert batch["status"] == "done", batch
    assert (api.out / f"site/assets/logos/{CLINIC}.svg").read_bytes() == ALLOWED
