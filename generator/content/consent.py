"""What a patient consents to, as hashes: printed on every page, and kept per version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from generator.content.schema import Clinic, Therapy


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def consent_text(therapy: Therapy) -> dict[str, Any]:
    """The therapy's consent-relevant text (the clinic adds its protocol)."""
    return {
        "sections": {name: section.body for name, section in therapy.sections},
        "side_effects": therapy.side_effects.model_dump(exclude={"items": {"__all__": {"cite"}}}),
        "risks": therapy.risks.model_dump(exclude={"items": {"__all__": {"cite"}}}),
    }


def protocol_text(clinic: Clinic, therapy_id: str) -> dict[str, Any]:
    return {"protocol": clinic.protocols[therapy_id].model_dump(exclude={"revision"}),
            "clinician": clinic.clinician.model_dump(), "emergency": clinic.emergency}


def therapy_text_hash(therapy: Therapy) -> str:
    return _digest(consent_text(therapy))


def protocol_hash(clinic: Clinic, therapy_id: str) -> str:
    return _digest(protocol_text(clinic, therapy_id))


def consent_hash(therapy: Therapy, clinic: Clinic, therapy_id: str) -> str:
    """A short hash of every word a patient agrees to (in the form's language), printed on each
    consent page so that a signed paper copy maps to the exact text the patient read."""
    return _digest({
        "version": therapy.consent_version,
        "revision": clinic.protocols[therapy_id].revision,
        "therapy": consent_text(therapy),
        "clinic": protocol_text(clinic, therapy_id),
    })[:12]
