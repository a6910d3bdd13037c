"""Urdu beside English: the citizen's pages of the portal (English or Urdu, the citizen's choice) and
the challan PDF's body (both at once), from one gettext catalogue per language,
challan/locale/<lang>/LC_MESSAGES/messages.po. Babel reads the catalogue when it is first needed and
compiles it in memory, so there is no .mo file to keep in step with it. A message with no
translation (or a fuzzy one) shows in English: a new sentence is never lost, only untranslated, and
tests/challan/test_i18n.py fails until it is translated.

English text is the message id. Templates call `_("...")` (Jinja2's i18n extension, new style, so
`%(name)s` values are escaped); Python code marks what a template translates later with `N_`.
`make messages` extracts the ids again (pybabel, babel.cfg) and merges them into each catalogue.

Dates are written with the language's month names (CLDR, through Babel); digits stay 0-9, as Urdu
print in Pakistan writes them. Numbers, plates, PSIDs and challan numbers are isolated left-to-right
runs inside Urdu text (the templates' `bdi` and the `.mono`/`.plate` rules of the style sheets)."""

from __future__ import annotations

import gettext as gettext_module
import io
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
LANGUAGES = {"en": "English", "ur": "اردو"}
RIGHT_TO_LEFT = frozenset({"ur"})
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark `message` for extraction; a template translates it when it shows it."""
    return message


@cache
def translations(lang: str) -> gettext_module.NullTranslations:
    """The catalogue of `lang` (an empty one for English or a language with no catalogue)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return gettext_module.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries left out: they show in English
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def translate(lang: str, message: str, **values: object) -> str:
    """`message` in `lang`, with `%(name)s` values filled in (plain text, not HTML)."""
    text = translations(lang).gettext(message)
    return text % values if values else text


def direction(lang: str) -> str:
    return "rtl" if lang in RIGHT_TO_LEFT else "ltr"


def pick(requested: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: `?lang=` first, then the cookie the toggle set, then the browser's first
    language we have (Accept-Language, in its order of preference), else English."""
    for choice in (requested, cookie):
        if choice in LANGUAGES:
            return choice
    for lang, _quality in _accepted(accept_language or ""):
        if lang in LANGUAGES:
            return lang
    return DEFAULT


def _accepted(header: str) -> list[tuple[str, float]]:
    """Accept-Language's languages (primary subtag, lower case), most wanted first."""
    wanted = []
    for i, part in enumerate(header.split(",")[:20]):
        lang, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if lang and quality > 0:
            wanted.append((lang.split("-")[0].lower(), quality, i))
    return [(lang, q) for lang, q, _ in sorted(wanted, key=lambda w: (-w[1], w[2]))]


def day(value: date | None, lang: str) -> str:
    """A date as a notice prints it: 07 Dec 2026, or 7 دسمبر 2026."""
    if not value:
        return "-"
    if lang == DEFAULT:
        return value.strftime("%d %b %Y")
    from babel.dates import format_date

    return format_date(value, "d MMMM y", locale=lang)


def moment(value: datetime, zone: ZoneInfo, lang: str) -> str:
    """A moment as local wall-clock time: 07 Dec 2026, 09:05:00 PKT (Urdu: month in Urdu, same clock)."""
    local = value.astimezone(zone)
    clock = f"{local:%H:%M:%S} {local.tzname()}"
    return f"{local:%d %b %Y}, {clock}" if lang == DEFAULT else f"{day(local.date(), lang)}، {clock}"


def amount(value: int | None, lang: str) -> str:
    """Rupees: PKR 2,000, or 2,000 روپے."""
    if value is None:
        return "-"
    return f"PKR {value:,}" if lang == DEFAULT else translate(lang, N_("PKR %(amount)s"), amount=f"{value:,}")


# Words the pages show from the records, translated where they are shown.
STATUSES = {  # challan.models.Status, and a contest's (challan.web.schemas.Contest)
    "pending": N_("pending"),
    "approved": N_("approved"),
    "issued": N_("issued"),
    "paid": N_("paid"),
    "contested": N_("contested"),
    "upheld": N_("upheld"),
    "cancelled": N_("cancelled"),
    "rejected": N_("rejected"),
    "awaiting decision": N_("awaiting decision"),
}
EVIDENCE_KINDS = {  # anpr.evidence
    "scene_before": N_("scene before"),
    "scene_at": N_("scene at"),
    "scene_after": N_("scene after"),
    "plate_crop": N_("plate crop"),
}
EVIDENCE_STATES = {
    "ok": N_("verified"),
    "missing": N_("missing"),
    "changed": N_("changed"),
}  # challan.evidence


def words(value: str | list[str] | None, lang: str, known: dict[str, str] | None = None) -> str:
    """A message made at run time in `lang` (a list of sentences: each, joined by a space); a word
    from the records through `known` (its message id); as given where the catalogue lacks it."""
    if not value:
        return ""
    if isinstance(value, list):
        return " ".join(words(v, lang, known) for v in value)
    return gettext_for(lang)((known or {}).get(value, value))
