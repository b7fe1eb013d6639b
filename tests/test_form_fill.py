"""A filled consent form keeps every letter of any name, and dates sit on their line.

The fields are filled with pikepdf (as an e-signature tool writes /V), then poppler builds their
appearances from the form's own font and draws them into a new PDF (`pdftocairo -pdf`, a
flattened copy); pdftotext and pypdf read the names back from that copy, and pypdf reads the
field values from the filled form.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from tests.conftest import published_files
from tests.pdflayout import read_pages

HARD_NAMES = {
    "patient_name": "Zoë Łukasz Nguyễn",                      # Polish, Vietnamese
    "patient_printed_name": "Grzegorz Brzęczyszczykiewicz",    # Polish
    "representative_relationship": "Trần Thị Phượng",          # Vietnamese
    "witness_printed_name": "Jiří Dvořák-Šťastný",             # Czech, hyphenated
    "clinician_printed_name": "Çağlar Öztürk Ağaoğlu",         # Turkish
    "initials:0": "ÐQB",                                       # Vietnamese Đ as initial
    "initials:1": "İŞ",                                        # Turkish dotted capital I
}
"""`initials:n` is the form's n-th initials box: each therapy has its own side effects."""
MORE_NAMES = [
    "Iñaki Muñoz Peña",                # Spanish
    "Siobhán O'Sullivan",              # Irish apostrophe
    "Ana-María Pérez-Núñez",           # Spanish, hyphenated
    "Đặng Quốc Bảo",                   # Vietnamese
    "Małgorzata Żółć-Wróbel",          # Polish, hyphenated
    "Ștefan Țîrlea",                   # Romanian (Latin Extended B)
]
DATES = {"date_of_birth": "1984-02-29", "patient_signed_on": "2026-12-02",
         "witness_signed_on": "2026-12-03", "clinician_signed_on": "2026-12-04"}


def fill(source: Path, target: Path, values: dict[str, str]) -> None:
    with pikepdf.open(source) as pdf:
        fields = {str(f.T): f for f in pdf.Root.AcroForm.Fields}
        for name, value in values.items():
            fields[name].V = pikepdf.String(value)
            if "/AP" in fields[name]:
                del fields[name]["/AP"]
        pdf.Root.AcroForm.NeedAppearances = True
        pdf.save(target)


def flatten(filled: Path, flat: Path) -> str:
    """poppler draws the fields into a plain PDF; returns what it complained about."""
    result = subprocess.run(["pdftocairo", "-pdf", str(filled), str(flat)], capture_output=True,
                            text=True, timeout=120, check=True)
    return result.stderr


def initials_field(source: Path, name: str) -> str:
    """The field a name of HARD_NAMES stands for in this consent form."""
    if not name.startswith("initials:"):
        return name
    with pikepdf.open(source) as pdf:
        boxes = [str(f.T) for f in pdf.Root.AcroForm.Fields if str(f.T).startswith("initials_")]
    return boxes[int(name.partition(":")[2])]


def consents(built: Path) -> list[Path]:
    found = sorted(published_files(built, "consent.pdf"))
    assert {p.parent.name for p in found} >= {"en", "es"}
    return found


@pytest.mark.slow
@pytest.mark.parametrize("batch", [0, 1])
def test_hard_names_keep_every_letter(built: Path, tmp_path: Path, batch: int) -> None:
    names = dict(HARD_NAMES)
    if batch:  # the same fields again, with the other names
        names.update(zip(["patient_name", "patient_printed_name", "representative_relationship",
                          "witness_printed_name", "clinician_printed_name",
                          "initials:1"], MORE_NAMES, strict=True))
    assert len(set(HARD_NAMES.values()) | set(MORE_NAMES)) >= 10
    for source in consents(built):
        filled, flat = tmp_path / "filled.pdf", tmp_path / "flat.pdf"
        wanted = {initials_field(source, k): v for k, v in names.items()}
        fill(source, filled, wanted | DATES)
        complaints = flatten(filled, flat)
        assert "couldn't find a font" not in complaints, f"{source}: {complaints}"
        text = subprocess.run(["pdftotext", str(flat), "-"], capture_output=True, text=True,
                              check=True, timeout=60).stdout
        read_back = " ".join(page.extract_text() or "" for page in PdfReader(flat).pages)
        values = {k: str(v.get("/V")) for k, v in (PdfReader(filled).get_fields() or {}).items()}
        for name, value in wanted.items():
            assert value in text, f"{source}: poppler drew {name} without all of {value!r}"
            assert value in read_back, f"{source}: pypdf does not read {value!r} back"
            assert values[name] == value


@pytest.mark.slow
def test_filled_dates_sit_on_their_line(built: Path, tmp_path: Path) -> None:
    """A filled date ends on the same baseline as the "Date" label beside it (both sit on the
    row's underline), not a line above it."""
    for source in consents(built):
        filled, flat = tmp_path / "filled.pdf", tmp_path / "flat.pdf"
        fill(source, filled, DATES)
        flatten(filled, flat)
        pages = read_pages(flat)
        for name, value in DATES.items():
            if name == "date_of_birth":
                continue
            date = next((box, page) for page in pages for line in page.lines
                        for word, box in line.words if word == value)
            box, page = date
            labels = [b for line in page.lines for w, b in line.words
                      if w in ("Date", "Fecha") and b.x0 < box.x0]
            nearest = min(labels, key=lambda b: abs(b.y1 - box.y1))
            assert abs(nearest.y1 - box.y1) < 3, (
                f"{source}: {name} ends at {box.y1:.1f} pt, its label at {nearest.y1:.1f} pt")
