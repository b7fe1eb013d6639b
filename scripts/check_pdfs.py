"""Both PDF/UA-1 checkers over every PDF below a folder: `python scripts/check_pdfs.py out`.

Prints one line per PDF (page-validation's verdict, pdfua's findings by severity), then each
finding. Exit status 1 if any checker found anything. tests/test_pdfua.py asserts the same.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import page
import pdfua


def published_pdfs(root: Path) -> list[Path]:
    """The PDFs a reader of the folder sees (through the links to the current release)."""
    found = []
    for current, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".carepress")]
        found.extend(Path(current) / n for n in files if n.endswith(".pdf"))
    return sorted(found)


def main(root: Path) -> int:
    print(f"page-validation {page.__version__} | pdfua {pdfua.__version__}")
    found = 0
    for path in published_pdfs(root):
        report = page.validate_pdf(str(path), profile=page.ValidationProfile.PDF_UA_1)
        checked = pdfua.validate(str(path))
        severities = Counter(f.severity.name for f in checked.findings)
        verdict = "compliant" if report.is_compliant else "NON-CONFORMANT"
        print(f"{path.relative_to(root)}: page-validation {verdict} ({report.rules.failed} of "
              f"{report.rules.total} rules failed); pdfua {dict(severities) or 'no findings'}"
              f"; pdfua skipped {sorted(o.rule_id for o in checked.skipped) or 'none'}")
        for failure in report.failures:
            print(f"    page-validation {failure.rule_id}: {failure.message}")
        for finding in checked.findings:
            print(f"    pdfua {finding.rule_id} {finding.severity.name}: {finding.message}")
        found += len(report.failures) + len(checked.findings)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out")))
