"""Consent versions: once a version is published, its text is fixed.

The output keeps a record (consent-versions.json) of every published consent version with the
hash of its text, and a snapshot of that text for redlines. A build or `validate` refuses a
tree whose consent text (sections, side effects, risks) changed while `consent_version` did
not, or whose clinic protocol wording changed while its `revision` did not: a patient who
signed version 1.0 must be able to trust that 1.0 means one text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.content.consent import consent_text, protocol_hash, therapy_text_hash
from generator.content.tree import ContentTree, EntryRef
from generator.errors import ContentError, Problem

RECORD = "consent-versions.json"
SNAPSHOTS = "consent-versions"


def read_record(out_dir: Path) -> dict[str, Any]:
    path = out_dir / RECORD
    if not path.exists():
        return {"therapies": {}, "protocols": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _shown(tree: ContentTree, kind: str, entry_id: str) -> str:
    return str(Path(tree.root.name) / tree.files[EntryRef(kind, entry_id)].relative_to(tree.root))


def problems(tree: ContentTree, record: dict[str, Any],
             only: EntryRef | None = None) -> list[Problem]:
    """Consent text or protocol wording changed under a published version (of `only`, or of
    every entry)."""
    found = []
    for tid, therapy in tree.therapies.items():
        if only is not None and only != EntryRef("therapy", tid):
            continue
        known = record["therapies"].get(tid, {}).get(therapy.consent_version)
        if known and known["hash"] != therapy_text_hash(therapy):
            found.append(Problem(_shown(tree, "therapy", tid), "consent_version",
                                 f"the consent text changed since version "
                                 f"{therapy.consent_version} was published; give it a new "
                                 "consent_version (patients may need to consent again)"))
    for cid, clinic in tree.clinics.items():
        if only is not None and only != EntryRef("clinic", cid):
            continue
        for tid, protocol in clinic.protocols.items():
            known = record["protocols"].get(cid, {}).get(tid, {}).get(str(protocol.revision))
            if known and known["hash"] != protocol_hash(clinic, tid):
                found.append(Problem(_shown(tree, "clinic", cid), f"protocols.{tid}.revision",
                                     f"the protocol wording changed since revision "
                                     f"{protocol.revision} was published; increase revision"))
    return found


def check(tree: ContentTree, out_dir: Path) -> None:
    found = problems(tree, read_record(out_dir))
    if found:
        raise ContentError(found)


def record_files(tree: ContentTree, out_dir: Path) -> dict[str, bytes]:
    """The files that add the current versions to the record (relative to the output folder):
    the updated record, and a text snapshot of each new version. Empty when nothing is new."""
    record = read_record(out_dir)
    before = json.dumps(record, sort_keys=True)
    files: dict[str, bytes] = {}
    for tid, therapy in tree.therapies.items():
        versions = record["therapies"].setdefault(tid, {})
        if therapy.consent_version not in versions:
            versions[therapy.consent_version] = {
                "hash": therapy_text_hash(therapy),
                "date": therapy.review.reviewed_on.isoformat(),
            }
            snapshot = {"therapy": tid, "name": therapy.name,
                        "version": therapy.consent_version, **consent_text(therapy)}
            files[snapshot_relative(tid, therapy.consent_version)] = json.dumps(
                snapshot, indent=2, ensure_ascii=False).encode()
    for cid, clinic in tree.clinics.items():
        for tid, protocol in clinic.protocols.items():
            revisions = record["protocols"].setdefault(cid, {}).setdefault(tid, {})
            revisions.setdefault(str(protocol.revision), {"hash": protocol_hash(clinic, tid)})
    if json.dumps(record, sort_keys=True) != before:
        files[RECORD] = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()
    return files


def snapshot_relative(therapy: str, version: str) -> str:
    return f"{SNAPSHOTS}/{therapy}/{version}.json"


def snapshot_path(out_dir: Path, therapy: str, version: str) -> Path:
    return out_dir / snapshot_relative(therapy, version)


def load_snapshot(out_dir: Path, therapy: str, version: str) -> dict[str, Any]:
    path = snapshot_path(out_dir, therapy, version)
    if not path.exists():
        raise ContentError([Problem(str(path), "", f"no published consent version {version!r} "
                                    f"of {therapy!r} in this output folder")])
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
