"""Render one planned document to its files (bytes); the caller decides where they go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.content.kinds import FOLDERS
from generator.content.logos import read_logo
from generator.i18n import SOURCE_LANGUAGE
from generator.plan.documents import DocumentKey, DocumentSpec, sitemap_keys
from generator.plan.kinds import STATIC_FILES, Renderer
from generator.plan.project import Project
from generator.render.contexts import clinic_document_context
from generator.render.home import home_context, notfound_context, root_context
from generator.render.pages import page_context
from generator.render.pdf import PdfRenderer
from generator.render.site import robots_context, site_context, sitemap_context
from generator.templating import render_template
from templates import STATIC_DIR


@dataclass(frozen=True)
class Artifact:
    path: str
    format: str
    data: bytes


class DocumentRenderer:
    """Everything a process needs to render documents; build one per process and reuse it."""

    def __init__(self, project: Project, pdf: PdfRenderer | None = None) -> None:
        """Pass the PdfRenderer of an earlier project of the same content tree to keep it warm."""
        self.project = project
        self.tree = project.tree
        self.site_url = project.settings.base_url
        self._pdf = pdf

    @property
    def pdf(self) -> PdfRenderer:
        if self._pdf is None:
            roots = (STATIC_DIR, self.tree.root / FOLDERS["clinic"])
            self._pdf = PdfRenderer(STATIC_DIR, roots, self.project.settings.strict_render)
        return self._pdf

    def render(self, spec: DocumentSpec) -> list[Artifact]:
        key = spec.key
        match key.document_kind.renderer:
            case Renderer.STATIC_FILES:
                return [Artifact(o.path, o.format, (STATIC_DIR / name).read_bytes())
                        for o, name in zip(spec.outputs, STATIC_FILES, strict=True)]
            case Renderer.LOGO:
                return _copy(spec, read_logo(self.tree.logo_path(key.clinic)))
            case Renderer.FAVICON:
                source = self.tree.favicon_path()
                assert source is not None, "a favicon is planned only when the site names one"
                return _copy(spec, source.read_bytes())
            case Renderer.CLINIC_DOCUMENT:
                return self._clinic_document(spec, self.project.hashes[key.id])
            case _:
                env = self.project.envs[key.lang or SOURCE_LANGUAGE]
                text = render_template(env, spec.template or "", self._context(key))
                return _copy(spec, text.encode())

    def _context(self, key: DocumentKey) -> dict[str, Any]:
        """What the template of a document made from one template alone receives."""
        tree, url = self.tree, self.site_url
        match key.document_kind.renderer:
            case Renderer.PAGE:
                return page_context(tree, key, url)
            case Renderer.HOME:
                return home_context(tree, key.lang, self.project.pages, url)
            case Renderer.NOTFOUND:
                return notfound_context(tree, url)
            case Renderer.ROOT:
                return root_context(tree, url)
            case Renderer.ROBOTS:
                return robots_context(url)
            case Renderer.SITEMAP:
                return sitemap_context(tree, sitemap_keys(self.project.specs), url)
            case other:
                raise AssertionError(f"the {other.value} renderer fills no template")

    def _clinic_document(self, spec: DocumentSpec, inputs_hash: str) -> list[Artifact]:
        html_out, pdf_out, *public = spec.outputs
        template = spec.template or ""
        web = clinic_document_context(self.tree, spec.key, html_out.path, False, self.site_url)
        printed = clinic_document_context(self.tree, spec.key, pdf_out.path, True, self.site_url)
        env = self.project.envs[spec.key.lang]
        html = render_template(env, template, web)
        print_html = render_template(env, template, printed)
        # The identifier ties the PDF to its inputs, so equal inputs give equal bytes.
        pdf = self.pdf.render(print_html, STATIC_DIR.as_uri() + "/", inputs_hash[:32],
                              spec.key.id)
        artifacts = [Artifact(html_out.path, html_out.format, html.encode()),
                     Artifact(pdf_out.path, pdf_out.format, pdf)]
        # The site's copies: the same PDF bytes; the HTML again, for links from its own folder.
        for copy in public:
            site = site_context(self.tree, spec.key.lang, copy.path)
            data = pdf if copy.format == "pdf" else render_template(env, template, {
                **clinic_document_context(self.tree, spec.key, copy.path, False, self.site_url),
                "favicon": site["favicon"], "fonts": site["fonts"],
            }).encode()
            artifacts.append(Artifact(copy.path, copy.format, data))
        return artifacts


def _copy(spec: DocumentSpec, data: bytes) -> list[Artifact]:
    """A document of one file: `data` is that file."""
    [output] = spec.outputs
    return [Artifact(output.path, output.format, data)]


def render_redline(project: Project, diff: dict[str, object]) -> tuple[str, bytes]:
    """A consent redline as HTML (stylesheet inlined: it travels alone) and PDF."""
    env = project.envs[SOURCE_LANGUAGE]
    context = {"diff": diff, "lang": SOURCE_LANGUAGE, "print": True, "stylesheet": "",
               "created": "2000-01-01"}
    printed = render_template(env, "consent_diff.html.j2", context)
    styles = (STATIC_DIR / "carepress.css").read_text(encoding="utf-8")
    html = printed.replace("</head>", f"<style>{styles}</style>\n</head>", 1)
    renderer = DocumentRenderer(project)
    pdf = renderer.pdf.render(printed, STATIC_DIR.as_uri() + "/", "0" * 32,
                              "consent redline")
    return html, pdf
