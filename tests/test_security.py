"""Deny-by-default fetching, strict rendering, sanitised markup and hostile content."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
import tinyhtml5
import yaml
from markupsafe import Markup

from generator.content.loading import load_content
from generator.errors import ContentError, FetchError, RenderError
from generator.markup import markdown_block, markdown_inline, plain_text
from generator.render.fetcher import resolve_allowed
from generator.render.pdf import PdfRenderer
from generator.templating import make_environment
from templates import STATIC_DIR
from tests.conftest import published_files, run_build

XHTML = "{http://www.w3.org/1999/xhtml}"
JSON_LD = "application/ld+json"


# --- helpers ---------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bytes(width: int, height: int, pixels: bool = True) -> bytes:
    """A PNG: signature + IHDR (+ IDAT + IEND when pixels, for a decodable 8-bit grey image)."""
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if pixels:
        raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
        data += png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    return data


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def doc(body: str, head: str = "") -> str:
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>'


# --- resolve_allowed -------------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = (tmp_path / "root").resolve()
    folder.mkdir()
    (folder / "ok.png").write_bytes(png_bytes(2, 2))
    (tmp_path / "secret.txt").write_text("outside the root")
    (folder / "escape.png").symlink_to(tmp_path / "secret.txt")
    return folder


def test_allowed_file_inside_root_passes(root: Path):
    assert resolve_allowed((root / "ok.png").as_uri(), (root,)) == root / "ok.png"
    assert resolve_allowed(f"file://localhost{root}/ok.png", (root,)) == root / "ok.png"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:1/x.png",
    "https://example.com/x",
    "data:image/png;base64,AAAA",
    "file:///etc/passwd",
    "{root}/x.png",
    "ftp://example.com/x.png",
])
def test_refused_urls(root: Path, url: str):
    with pytest.raises(FetchError):
        resolve_allowed(url.format(root=root), (root,))


def test_refused_dot_dot_traversal(root: Path):
    assert (root.parent / "secret.txt").is_file()  # it exists: refused for being outside
    with pytest.raises(FetchError, match="outside"):
        resolve_allowed(f"file://{root}/../secret.txt", (root,))
    with pytest.raises(FetchError, match="outside"):
        resolve_allowed(f"file://{root}/%2e%2e/secret.txt", (root,))


def test_refused_symlink_pointing_outside(root: Path):
    assert (root / "escape.png").read_text() == "outside the root"
    with pytest.raises(FetchError, match="outside"):
        resolve_allowed((root / "escape.png").as_uri(), (root,))


def test_refused_missing_file_inside_root(root: Path):
    with pytest.raises(FetchError, match="not found"):
        resolve_allowed((root / "missing.png").as_uri(), (root,))
    with pytest.raises(FetchError):
        resolve_allowed(root.as_uri(), (root,))  # a folder is not a file


def test_refused_file_url_on_another_host(root: Path):
    with pytest.raises(FetchError):
        resolve_allowed(f"file://otherhost{root}/ok.png", (root,))


# --- end to end through WeasyPrint -----------------------------------------------------------


@pytest.fixture(scope="module")
def asset_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("assets").resolve()
    (folder / "logo.png").write_bytes(png_bytes(4, 4))
    # An allowed SVG whose own sub-resource is not: the fetcher guards nested fetches too.
    (folder / "font.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><style>@font-face '
        "{ font-family: x; src: url(http://127.0.0.1:9/f.ttf) } text { font-family: x }"
        '</style><text y="5">hi</text></svg>')
    return folder


@pytest.fixture(scope="module")
def renderer(asset_root: Path) -> PdfRenderer:
    # The bundled fonts live in STATIC_DIR, so it must be an allowed root, as in a real build.
    return PdfRenderer(STATIC_DIR, (STATIC_DIR, asset_root), strict=True)


def render(renderer: PdfRenderer, asset_root: Path, html: str) -> bytes:
    return renderer.render(html, asset_root.as_uri() + "/", "securitytest", "security test")


def test_allowed_image_renders(renderer: PdfRenderer, asset_root: Path):
    pdf = render(renderer, asset_root, doc('<p>Logo</p><img src="logo.png" alt="logo">'))
    assert pdf.startswith(b"%PDF")
    assert b"/Subtype /Image" in pdf, "the allowed image must really be embedded"


@pytest.mark.parametrize(("body", "head"), [
    ('<img src="http://127.0.0.1:9/x.png" alt="x">', ""),
    ('<img src="file:///etc/hostname" alt="x">', ""),
    ("<p>text</p>", '<style>@import url("file:///etc/passwd");</style>'),
    ('<img src="missing.png" alt="x">', ""),
    ('<p style="background: url(http://127.0.0.1:9/bg.png)">text</p>', ""),
    ('<img src="data:image/png;base64,AAAA" alt="x">', ""),
    ("<p>text</p>", '<link rel="stylesheet" href="file:///etc/passwd">'),
    ('<object data="file:///etc/passwd"></object>', ""),
    ('<img src="font.svg" alt="x">', ""),
], ids=["http-image", "file-outside", "css-import", "missing-image", "css-background",
        "data-url", "link-stylesheet", "object", "svg-font-face"])
def test_forbidden_fetch_is_a_render_error(renderer: PdfRenderer, asset_root: Path,
                                           body: str, head: str):
    with pytest.raises(RenderError):
        render(renderer, asset_root, doc(body, head))


def test_renderer_still_works_after_a_refusal(renderer: PdfRenderer, asset_root: Path):
    with pytest.raises(RenderError):
        render(renderer, asset_root, doc('<img src="file:///etc/hostname" alt="x">'))
    assert render(renderer, asset_root, doc("<p>fine</p>")).startswith(b"%PDF")


def test_strict_css_warning_is_a_render_error(renderer: PdfRenderer, asset_root: Path):
    with pytest.raises(RenderError, match="colr"):
        render(renderer, asset_root, doc("<p>text</p>", "<style>p { colr: red }</style>"))


# --- markup ----------------------------------------------------------------------------------

HOSTILE = ("<script>alert(1)</script> **hi** [x](javascript:alert(1)) "
           '[y](<javascript:alert(2)>) <a href="javascript:alert(3)">z</a> '
           "[ok](https://example.com/a)")


def elements(fragment: str) -> list:
    return list(tinyhtml5.parse(f"<!DOCTYPE html><body>{fragment}</body>").iter())


@pytest.mark.parametrize("convert", [markdown_block, markdown_inline])
def test_markdown_strips_scripts_and_javascript_links(convert):
    out = str(convert(HOSTILE))
    assert "<script" not in out.lower()
    parsed = elements(out)
    assert not [e for e in parsed if e.tag == XHTML + "script"]
    # markdown-it refuses javascript: links and leaves their source as inert, escaped text;
    # what matters is that no attribute of any element carries the scheme.
    for element in parsed:
        for attribute, value in element.attrib.items():
            assert "javascript:" not in value.lower(), (attribute, value, out)
    links = [e.get("href") for e in parsed if e.tag == XHTML + "a"]
    assert links == ["https://example.com/a"], out
    assert "<strong>hi</strong>" in out  # the markdown itself still works


def test_plain_text_removes_markdown_tags_and_stays_escapable():
    out = plain_text("**hi** and *you*, see [the clinic](https://example.com/a)\n\n- one")
    assert out == "hi and you, see the clinic one"
    hostile = plain_text("<script>alert(1)</script> **hi**")
    assert not isinstance(hostile, Markup), "plain text must stay escapable, never Markup"
    rendered = make_environment().from_string("<p>{{ text|plain }}</p>").render(
        text="<script>alert(1)</script> **hi**")
    assert "<script" not in rendered and "&lt;script&gt;" in rendered


def test_plain_text_keeps_typed_angle_brackets_as_text():
    # Text an editor typed is shown as text: plain_text returns it verbatim (not Markup), and
    # every caller (meta attribute, JSON-LD) escapes it.
    out = plain_text("<b>bold</b> **hi**")
    assert out == "<b>bold</b> hi"
    assert type(out) is str


# --- injection through content, end to end ---------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{ 7*7 }}"


def visible(root) -> str:
    return " ".join("".join(root.itertext()).split())


@pytest.mark.slow
def test_content_cannot_inject_script_or_template_code(content: Path, tmp_path: Path):
    clinic_id, location_id = "riverwalk-wellness", "naperville"
    summary = f"Before {SCRIPT} middle QX{TEMPLATE}QY after."
    name = f"Evil {SCRIPT} Clinic QX{TEMPLATE}QY"
    edit_yaml(content / "locations" / f"{location_id}.yaml", lambda d: d.update(summary=summary))
    edit_yaml(content / "clinics" / f"{clinic_id}.yaml", lambda d: d.update(name=name))
    tree = load_content(content)
    assert tree.clinics[clinic_id].name == name and tree.locations[location_id].summary == summary

    out = tmp_path / "out"
    report = run_build(content, out)
    assert not report.failed, report.failed

    documents = sorted(published_files(out, "*.html"))
    own_documents = sorted(published_files(out / "clinics" / clinic_id / "ketamine", "*.html"))
    listing_pages = {out / "site" / "en" / "ketamine" / lid / "index.html"
                     for lid in tree.locations
                     if clinic_id in tree.clinics_serving(lid, "ketamine")}
    location_page = out / "site" / "en" / "ketamine" / location_id / "index.html"
    # A handout and a consent form, in English and in Spanish.
    assert len(own_documents) == 4 and location_page in listing_pages and len(listing_pages) >= 2

    for path in documents:
        raw = path.read_text(encoding="utf-8")
        root = tinyhtml5.parse(raw)
        scripts = list(root.iter(XHTML + "script"))
        assert all(s.get("type") == JSON_LD for s in scripts), f"{path}: a script element"
        # Every '</script' in the source closes one of the JSON-LD scripts, nothing else.
        assert len(re.findall(r"</script", raw, re.IGNORECASE)) == len(scripts), path
        assert "QX49QY" not in raw, f"{path}: content was evaluated as a template"
        for script in scripts:
            body = script.text or ""
            assert "<" not in body, f"{path}: tojson must escape '<' in JSON-LD"
            graph = json.loads(body)["@graph"]
            if path in listing_pages:
                names = [n["name"] for n in graph if n.get("@type") == "MedicalClinic"]
                assert name in names, f"{path}: JSON-LD must carry the name as plain data"
        if path in own_documents or path in listing_pages:
            assert name in visible(root), f"{path}: the clinic name must show verbatim as text"

    assert listing_pages <= set(documents)
    assert summary in visible(tinyhtml5.parse(location_page.read_text(encoding="utf-8")))


# --- logos -----------------------------------------------------------------------------------

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ' \
      'width="10" height="10">{}</svg>'
CLINIC = "prairie-mind"


def set_logo(content: Path, filename: str, data: bytes) -> None:
    (content / "clinics" / "logos" / filename).write_bytes(data)
    edit_yaml(content / "clinics" / f"{CLINIC}.yaml",
              lambda d: d.update(logo=f"logos/{filename}"))


LOGO_CASES = {  # case: (file name, bytes, a word the refusal must contain)
    "svg-file-href": ("bad.svg", SVG.format('<use href="file:///etc/passwd"/>').encode(),
                      "file:///etc/passwd"),
    "svg-xlink-href": ("bad.svg", SVG.format('<use xlink:href="http://127.0.0.1/x"/>').encode(),
                       "http://127.0.0.1"),
    "svg-script": ("bad.svg", SVG.format("<script>alert(1)</script>").encode(), "script"),
    "png-bomb": ("bad.png", png_bytes(50000, 50000, pixels=False), "50000x50000"),
    "too-large": ("big.png", png_bytes(8, 8) + b"\x00" * (600 * 1024), "KiB"),
}


@pytest.mark.parametrize("case", sorted(LOGO_CASES))
def test_hostile_logo_is_refused(content: Path, case: str):
    filename, data, reason = LOGO_CASES[case]
    set_logo(content, filename, data)
    with pytest.raises(ContentError) as caught:
        load_content(content)
    [line] = caught.value.lines()
    assert line.startswith(f"content/clinics/{CLINIC}.yaml: logo: logos/{filename}:"), line
    assert reason in line, line
    assert [p.field for p in caught.value.problems] == ["logo"]


def test_acceptable_logos_load(content: Path):
    """The control for the cases above: a small PNG and a plain SVG are accepted."""
    set_logo(content, "fine.png", png_bytes(64, 64))
    tree = load_content(content)
    assert tree.logo_path(CLINIC).name == "fine.png"
    set_logo(content, "fine.svg", SVG.format('<rect width="10" height="10"/>').encode())
    assert load_content(content).logo_path(CLINIC).name == "fine.svg"
