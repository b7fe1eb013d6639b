"""The sentences a handout and a consent form say about one clinic's treatment, from data.

Who gives it, how long things take, and the regulatory status are typed fields; the words come
from the translation catalogs and the plural forms from Babel, so no document says "1 hours"
or prints a rule that does not apply ("Do not eat for 0 hours").
"""

from __future__ import annotations

from typing import Any

from babel.lists import format_list
from babel.units import format_unit

from generator.content.fields import Duration
from generator.content.schema import Clinician, Protocol, Therapy
from generator.i18n import translations


def duration(value: Duration, lang: str) -> str:
    """'1 hour', '2 hours and 30 minutes', '30 minutos': whole units, Babel's plurals."""
    hours, minutes = divmod(value.minutes, 60)
    parts = [format_unit(n, f"duration-{unit}", length="long", locale=lang)
             for n, unit in ((hours, "hour"), (minutes, "minute")) if n]
    return str(format_list(parts, locale=lang))


def clinician_name(clinician: Clinician, lang: str) -> str:
    """The clinician as the subject of a sentence: 'Dr. Maya Fernandez'; in Spanish the title
    and its article follow the clinician's grammatical gender ('la Dra. …', 'el Dr. …')."""
    strings = translations(lang)
    if clinician.honorific == "none":
        return clinician.name
    if clinician.gender == "female":
        form = strings.pgettext("clinician: female doctor", "Dr. %(name)s")
    elif clinician.gender == "male":
        form = strings.pgettext("clinician: male doctor", "Dr. %(name)s")
    else:
        form = strings.pgettext("clinician: doctor", "Dr. %(name)s")
    return form % {"name": clinician.name}


def _active(rule: Duration | None) -> Duration | None:
    return rule if rule is not None and rule.minutes > 0 else None


def protocol_rules(protocol: Protocol, lang: str) -> list[str]:
    """Session length and the food, drink and observation rules that apply, in order."""
    _ = translations(lang).gettext
    rules = [_("A session takes about %(duration)s.") % {
        "duration": duration(protocol.session, lang)}]
    food, drink = _active(protocol.no_food_before), _active(protocol.no_drink_before)
    if food:
        rules.append(_("Do not eat for %(duration)s before your session.") % {
            "duration": duration(food, lang)})
    if food and drink:
        rules.append(_("You may drink clear fluids, such as water, until %(duration)s before.")
                     % {"duration": duration(drink, lang)})
    elif drink:
        rules.append(_("Do not drink anything for %(duration)s before your session.") % {
            "duration": duration(drink, lang)})
    after = _active(protocol.observed_after)
    if after:
        rules.append(_("After your dose, staff watch you for at least %(duration)s before you "
                       "may leave.") % {"duration": duration(after, lang)})
    return rules


def given_by(protocol: Protocol, clinician: Clinician, clinic: str, lang: str,
             formal: bool) -> str:
    """Who gives the treatment; `formal` is the consent form's wording."""
    _ = translations(lang).gettext
    values = {"clinician": clinician_name(clinician, lang), "title": clinician.title,
              "clinic": clinic}
    if protocol.given_by == "self-supervised":
        text = (_("You will take the medicine yourself at %(clinic)s, while %(clinician)s, "
                  "%(title)s, or another qualified clinician watches you.") if formal else
                _("You take the medicine yourself, while %(clinician)s, %(title)s, watches "
                  "you."))
    else:
        text = (_("Your treatment will be given by %(clinician)s, %(title)s, or another "
                  "qualified clinician at %(clinic)s.") if formal else
                _("Your treatment is given by %(clinician)s, %(title)s."))
    return text % values


def approval(therapy: Therapy, lang: str) -> dict[str, str]:
    """The approval section's titles and its first sentence, from the regulatory status."""
    _ = translations(lang).gettext
    status = therapy.regulatory.status
    if status == "approved":
        return {"consent_title": _("Approval and what is not yet known"),
                "handout_title": _("Approval"),
                "statement": _("This treatment is approved for this use.")}
    if status == "off-label":
        return {"consent_title": _("Off-label use and what is not yet known"),
                "handout_title": _("Off-label use"),
                "statement": _("This treatment is used off-label: the medicine is approved, "
                               "but not for this use.")}
    return {"consent_title": _("An investigational treatment and what is not yet known"),
            "handout_title": _("An investigational treatment"),
            "statement": _("This treatment is investigational: it is not approved for this "
                           "use, and it is still being studied.")}


def treatment_context(therapy: Therapy, protocol: Protocol, clinician: Clinician,
                      clinic: str, lang: str) -> dict[str, Any]:
    _ = translations(lang).gettext
    return {
        "rules": protocol_rules(protocol, lang),
        "given_by": given_by(protocol, clinician, clinic, lang, formal=True),
        "given_by_short": given_by(protocol, clinician, clinic, lang, formal=False),
        "escort": _("An adult must come with you to take you home.")
        if protocol.escort_required else None,
        "approval": approval(therapy, lang),
    }
