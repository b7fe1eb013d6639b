"""What changed between two versions of a therapy's consent text, as a redline."""

from __future__ import annotations

import difflib
import re
from typing import Any

from markupsafe import Markup, escape

from generator.content.consent import consent_text
from generator.content.schema import Therapy


def snapshot_of(therapy: Therapy, therapy_id: str) -> dict[str, Any]:
    return {"therapy": therapy_id, "name": therapy.name, "version": therapy.consent_version,
            **consent_text(therapy)}


def word_diff(old: str, new: str) -> Markup:
    """The new text with removed words in <del> and added words in <ins>."""
    before, after = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(before[a1:a2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(after[b1:b2]))}</ins>")
        if op == "equal":
            parts.append(str(escape("".join(before[a1:a2]))))
    return Markup("".join(parts))  # noqa: S704 - every piece escaped above


def _items(group: dict[str, Any]) -> dict[str, str]:
    return {item["id"]: f"{item['name']}. {item['detail']}" for item in group["items"]}


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Added, removed and reworded side effects and risks, and reworded sections."""
    groups = {}
    for group in ("side_effects", "risks"):
        before, after = _items(old[group]), _items(new[group])
        groups[group] = {
            "added": [{"id": i, "text": after[i]} for i in after if i not in before],
            "removed": [{"id": i, "text": before[i]} for i in before if i not in after],
            "reworded": [{"id": i, "diff": word_diff(before[i], after[i])}
                         for i in after if i in before and before[i] != after[i]],
            "intro": (word_diff(old[group]["intro"], new[group]["intro"])
                      if old[group]["intro"] != new[group]["intro"] else None),
        }
    sections = [{"name": name, "diff": word_diff(old["sections"].get(name, ""), text)}
                for name, text in new["sections"].items()
                if old["sections"].get(name) != text]
    changed = any(g["added"] or g["removed"] or g["reworded"] or g["intro"]
                  for g in groups.values()) or bool(sections)
    return {"name": new["name"], "old_version": old["version"], "new_version": new["version"],
            "groups": groups, "sections": sections, "changed": changed}
