"""The Urdu catalogue (challan.i18n): every sentence the citizen's pages and the notice show has an
Urdu translation that keeps its placeholders and markup, and the page's language is chosen as the
citizen asked."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from challan import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "ur": None,
    "bi": None,
    "heading": None,
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?([a-z]+)[^>]*>")


def catalogue():
    with (i18n.LOCALE_DIR / "ur" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale="ur")


def english_ids() -> set[str]:
    """The message ids in the code and templates now, extracted as `make messages` does."""
    method_map = [
        ("challan/**.py", "python"),
        ("challan/web/templates/**.html", "jinja2"),
        ("challan/templates/**.html", "jinja2"),
    ]
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_sentence_shown_has_its_urdu():
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue() if m.id and m.string}
    missing = sorted(english_ids() - translated)
    assert not missing, f"untranslated (make messages, then translate in messages.po): {missing}"
    assert len(translated) > 150


def test_translations_keep_placeholders_and_markup():
    for message in catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            for urdu in strings:
                assert sorted(PLACEHOLDER.findall(urdu)) == sorted(PLACEHOLDER.findall(english)), english
                assert sorted(TAG.findall(urdu)) == sorted(TAG.findall(english)), english
                assert not message.fuzzy, english


def test_a_sentence_in_urdu_with_its_values():
    assert (
        i18n.translate("ur", "Challan %(number)s", number="PB-2026-000042-K7QX")
        == "چالان PB-2026-000042-K7QX"
    )
    assert i18n.translate("en", "Challan %(number)s", number="X") == "Challan X"
    assert i18n.translate("ur", "a sentence no one translated") == "a sentence no one translated"


def test_dates_and_amounts_in_urdu():
    assert i18n.day(date(2026, 12, 7), "en") == "07 Dec 2026"
    assert i18n.day(date(2026, 12, 7), "ur") == "7 دسمبر 2026"
    moment = datetime(2026, 3, 14, 12, 42, 9, tzinfo=UTC)
    assert i18n.moment(moment, ZoneInfo("Asia/Karachi"), "ur") == "14 مارچ 2026، 17:42:09 PKT"
    assert i18n.amount(5000, "en") == "PKR 5,000"
    assert i18n.amount(5000, "ur") == "5,000 روپے"


@pytest.mark.parametrize(
    ("asked", "cookie", "accept", "expected"),
    [
        (None, None, None, "en"),
        ("ur", None, None, "ur"),
        ("ur", "en", "en", "ur"),  # the toggle wins over what was remembered
        (None, "ur", "en-GB,en;q=0.9", "ur"),  # then the toggle remembered
        (None, None, "ur-PK,ur;q=0.9,en;q=0.8", "ur"),  # then the browser's languages, in order
        (None, None, "en-US,en;q=0.9,ur;q=0.8", "en"),
        (None, None, "pa;q=1,ur;q=0.5", "ur"),  # the first of the browser's we have
        (None, None, "ur;q=0", "en"),  # q=0: not wanted
        ("fr", "xx", "de", "en"),  # nothing we have
    ],
)
def test_the_language_chosen(asked, cookie, accept, expected):
    assert i18n.pick(asked, cookie, accept) == expected
