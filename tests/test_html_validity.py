"""The Nu HTML Checker (vnu.jar from npm's `vnu-jar`, on Java 17) over every HTML file of the
demo build: no error and no warning. Plus: phone numbers are E.164 `tel:` links, and the clinic's
phone, e-mail and the emergency numbers are links in every HTML handout."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, published_files

VNU = REPO / "tests" / "a11y" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
E164 = re.compile(r"^tel:(\+[1-9]\d{6,14}|\d{3})$")


def java_or_fail() -> str:
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        pytest.fail("the Nu HTML Checker cannot run: needs java on PATH and "
                    f"{VNU.relative_to(REPO)} (scripts/setup.sh: npm ci --prefix tests/a11y)",
                    pytrace=False)
    return java


@pytest.mark.slow
def test_every_html_file_passes_the_nu_html_checker(built: Path) -> None:
    java = java_or_fail()
    files = sorted(published_files(built, "*.html"))
    assert {f.name for f in files} >= {"index.html", "handout.html", "consent.html"}
    result = subprocess.run([java, "-jar", str(VNU), "--format", "json", *map(str, files)],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    problems = [f"{m['url'].rsplit('/out/', 1)[-1]}:{m.get('lastLine')}: {m['type']} "
                f"{m.get('subType', '')} {m['message']}" for m in messages]
    assert not problems, f"{len(problems)} messages:\n" + "\n".join(problems)
    assert result.returncode == 0, result.stderr


def test_tel_links_are_e164(built: Path) -> None:
    links = [(f, href) for f in sorted(published_files(built, "*.html"))
             for href in re.findall(r'href="(tel:[^"]*)"', f.read_text(encoding="utf-8"))]
    assert links
    bad = [f"{f.relative_to(built)}: {href}" for f, href in links if not E164.match(href)]
    assert not bad, "\n".join(bad)


def test_handouts_link_phone_email_and_emergency_numbers(built: Path) -> None:
    handouts = sorted(published_files(built, "handout.html"))
    assert handouts
    for path in handouts:
        html = path.read_text(encoding="utf-8")
        for href in ("tel:911", "tel:988"):
            assert f'href="{href}"' in html, f"{path}: {href} is not a link"
        phone = re.search(r'href="tel:(\+\d+)"', html)
        assert phone, f"{path}: the clinic's phone is not a link"
        assert 'href="mailto:' in html, f"{path}: the e-mail address is not a link"
        # No number in the text is left unlinked: every "(ddd) ddd-dddd" sits inside a link.
        text_numbers = re.findall(r"\(\d{3}\) \d{3}-\d{4}", html)
        linked = re.findall(r'<a href="tel:\+\d+">\(\d{3}\) \d{3}-\d{4}</a>', html)
        assert len(text_numbers) == len(linked), f"{path}: a phone number is not a link"
