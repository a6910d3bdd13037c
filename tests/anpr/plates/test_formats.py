"""Plate grammars: hand-built reads with exact expected parses, priors, confusion fixes and rankings;
then every label of the real development sets."""

import re

import pytest

from anpr.plates import formats
from anpr.plates.formats import (
    LAYOUTS,
    NO_FORMAT_PRIOR,
    REGIONS,
    ParsedPlate,
    confusable_variants,
    format_prior,
    guess_region,
    normalise,
    parse,
    rerank,
)
from anpr.plates.grammar import Layout


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("leh-07 5789", "LEH075789"),
        ("  AMD.868 ", "AMD868"),
        ("ict-islamabad", "ICTISLAMABAD"),
        ("a/b\nc|d_e", "ABCDE"),
        ("é-1", "1"),
        ("", ""),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


# (lines, region) -> (text, year, region, format, series, number)
PARSES = [
    # Punjab legacy two-line, the year on the top line; a list, '/', or a newline separates lines
    (["LEH-07", "5789"], "pk", ("LEH5789", "07", "pk", "pk-punjab-legacy-2line", "LEH", "5789")),
    ("LEH-07/5789", "auto", ("LEH5789", "07", "pk", "pk-punjab-legacy-2line", "LEH", "5789")),
    ("LE-12\n6686", "pk", ("LE6686", "12", "pk", "pk-punjab-legacy-2line", "LE", "6686")),
    (["LEE.08", "45"], "pk", ("LEE45", "08", "pk", "pk-punjab-legacy-2line", "LEE", "45")),
    (["PUNJAB", "LEH-07", "5789"], "auto", ("LEH5789", "07", "pk", "pk-punjab-legacy-2line", "LEH", "5789")),
    # year printed small between the lines; no year at all; a suffix letter that is not registration
    (["LEB", "14", "6466"], "pk", ("LEB6466", "14", "pk", "pk-punjab-legacy-2line", "LEB", "6466")),
    (["LRP", "7230"], "pk", ("LRP7230", None, "pk", "pk-punjab-legacy-2line", "LRP", "7230")),
    (["LEB-17", "4201 A"], "pk", ("LEB4201", "17", "pk", "pk-punjab-legacy-2line", "LEB", "4201")),
    # one line: the year is split off only when the digits cannot all be the number
    ("LEH075789", "pk", ("LEH5789", "07", "pk", "pk-punjab-legacy-1line", "LEH", "5789")),
    ("FDA13651", "pk", ("FDA651", "13", "pk", "pk-punjab-legacy-1line", "FDA", "651")),
    ("LEE0845", "pk", ("LEE0845", None, "pk", "pk-punjab-universal", "LEE", "0845")),
    # Punjab universal: 3 letters + 3 digits (car) or 4 (two-wheeler)
    ("ABC-123", "pk", ("ABC123", None, "pk", "pk-punjab-universal", "ABC", "123")),
    ("ABC 1234", "pk", ("ABC1234", None, "pk", "pk-punjab-universal", "ABC", "1234")),
    # Sindh: the province word decides between same-shaped series; year above or below
    (["AHE-767", "SINDH"], "pk", ("AHE767", None, "pk", "pk-sindh", "AHE", "767")),
    ("AHE-767", "pk-sindh", ("AHE767", None, "pk", "pk-sindh", "AHE", "767")),
    (["2012", "AWV-446"], "pk", ("AWV446", "12", "pk", "pk-sindh", "AWV", "446")),
    (["BBH-922", "14"], "pk", ("BBH922", "14", "pk", "pk-sindh", "BBH", "922")),
    ("BCS-036", "pk-sindh", ("BCS036", None, "pk", "pk-sindh", "BCS", "036")),
    ("AC-4903", "pk", ("AC4903", None, "pk", "pk-sindh", "AC", "4903")),
    ("C-1234", "pk", ("C1234", None, "pk", "pk-sindh-karachi", "C", "1234")),
    (["R-8501", "KARACHI"], "auto", ("R8501", None, "pk", "pk-sindh-karachi", "R", "8501")),
    ("TD-483-C", "pk", ("TD483", None, "pk", "pk-generic", "TD", "483")),
    # region not given: the suffix is dropped only where something says Pakistan (a province word, a
    # Pakistani layout); otherwise the foreign reading keeps every character (SUFFIX_FACTOR)
    (["TD-483-C", "SINDH"], "auto", ("TD483", None, "pk", "pk-generic", "TD", "483")),
    (["LEB-17", "4201 A"], "auto", ("LEB4201", "17", "pk", "pk-punjab-legacy-2line", "LEB", "4201")),
    ("GT-679A", "auto", ("GT679A", None, "us", "us-generic", "", "GT679A")),
    # Islamabad, KPK, Balochistan
    (["AMD-868", "ICT-ISLAMABAD"], "auto", ("AMD868", None, "pk", "pk-ict", "AMD", "868")),
    (["ABC-123", "Khyber Pakhtunkhwa"], "pk", ("ABC123", None, "pk", "pk-kpk", "ABC", "123")),
    (["BALOCHISTAN", "QAA-123"], "pk", ("QAA123", None, "pk", "pk-balochistan", "QAA", "123")),
    # Brazil: Mercosur vs old, one line or stacked (motorcycles)
    ("ABC1D23", "auto", ("ABC1D23", None, "br", "br-mercosur", "ABC", "1D23")),
    ("ABC-1234", "br", ("ABC1234", None, "br", "br-old", "ABC", "1234")),
    (["ABC", "1D23"], "br", ("ABC1D23", None, "br", "br-mercosur", "ABC", "1D23")),
    (["ABC", "1234"], "br", ("ABC1234", None, "br", "br-old", "ABC", "1234")),
    # US and Europe
    ("5UVR090", "us", ("5UVR090", None, "us", "us-california", "", "5UVR090")),
    ("AKS 4329", "us", ("AKS4329", None, "us", "us-3l4d", "AKS", "4329")),
    ("YG9X2G", "us", ("YG9X2G", None, "us", "us-generic", "", "YG9X2G")),
    (["CALIFORNIA", "ABC123"], "auto", ("ABC123", None, "us", "us-generic", "", "ABC123")),
    ("RK-755AJ", "eu", ("RK755AJ", None, "eu", "eu-2l3d2l", "RK", "755AJ")),
    ("AB12 CDE", "eu", ("AB12CDE", None, "eu", "eu-uk", "AB", "12CDE")),
    ("1B8 0338", "eu", ("1B80338", None, "eu", "eu-cz", "", "1B80338")),
    ("M5XSX", "eu", ("M5XSX", None, "eu", "eu-generic", "", "M5XSX")),
    # a one-line layout read off two lines (a reader's odd split)
    (["AB", "C1D23"], "br", ("ABC1D23", None, "br", "br-mercosur", "ABC", "1D23")),
]


@pytest.mark.parametrize(("lines", "region", "expected"), PARSES)
def test_parse(lines, region, expected):
    assert parse(lines, region) == ParsedPlate(*expected)


@pytest.mark.parametrize(
    ("lines", "region"),
    [
        (["5789", "LEH-07"], "pk"),  # lines out of order
        ("LEH57B9", "pk"),  # a letter in the number
        ("ABC1D23", "pk"),
        ("LEH-07 5789", "us"),  # 9 characters
        ("ABCDEFGHIJ", "auto"),
        ("", "auto"),
        (["SINDH"], "auto"),  # only a province word
        ("1234567", "br"),
    ],
)
def test_parse_none(lines, region):
    assert parse(lines, region) is None


def test_unknown_region_is_an_error():
    with pytest.raises(ValueError, match="unknown plate region 'mars'"):
        parse("ABC123", "mars")


@pytest.mark.parametrize(
    ("lines", "region", "expected"),
    [
        (["LEH-07", "5789"], "pk", 1.0),
        ("ABC123", "pk", 0.9),
        ("LEH075789", "pk", 0.7),
        ("AUH410", "pk-punjab", 0.9 * formats.AVOIDED_FACTOR),  # U avoided in the universal series
        ("AVH410", "pk-punjab", 0.9),
        (["ABC-123", "SINDH"], "pk-punjab", 0.9 * formats.CUE_MISMATCH),
        (["AB", "C1D23"], "br", 0.95 * formats.SPLIT_FACTOR),
        ("YG9X2G", "us", 0.3),
        ("ABC1D23", "auto", 0.95),
        ("LEH57B9", "pk", NO_FORMAT_PRIOR),
        ("", "auto", NO_FORMAT_PRIOR),
    ],
)
def test_format_prior(lines, region, expected):
    assert format_prior(lines, region) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "region", "first"),
    [
        ("LEH57B9", "pk", ("LEH5789", 0.8)),  # B in a digit position
        ("LEH-O7/5789", "pk", ("LEH07/5789", 0.9)),  # O in the year, two lines kept
        ("LE8-07/5789", "pk", ("LEB07/5789", 0.8)),  # 8 in the series
        ("0KM2371", "br", ("OKM2371", 0.9)),
        ("A8C1D23", "br", ("ABC1D23", 0.8)),
        ("5UVRO9O", "us", ("5UVR090", 0.81)),
    ],
)
def test_confusable_variants_first(text, region, first):
    variants = confusable_variants(text, region)
    assert variants[0][0] == first[0]
    assert variants[0][1] == pytest.approx(first[1])
    assert normalise(text) not in [v for v, _ in variants]
    assert all(0 < factor <= 1 for _, factor in variants)


@pytest.mark.parametrize(
    ("text", "region"),
    [("LEH-07/5789", "pk"), ("ABC1D23", "br"), ("YG9X2G", "us"), ("", "auto")],
)
def test_no_variants_for_a_text_already_in_its_best_layout(text, region):
    assert confusable_variants(text, region) == []


def test_confusable_variants_respects_max_and_ranks_by_factor_times_prior():
    variants = confusable_variants("00000000", "auto", max_variants=5)
    assert len(variants) == 5
    keys = [factor * format_prior(v) for v, factor in variants]
    assert keys == sorted(keys, reverse=True)
    assert len(confusable_variants("00000000", "auto", max_variants=100)) > 5


def test_rerank_fixes_a_confusion_and_ranks_it_first():
    ranked = rerank([("LEH57B9", 0.6), ("LEH5789", 0.2), ("LEHS789", 0.1)], "pk")
    texts = [text for _, text, _ in ranked]
    assert texts[0] == "LEH5789"
    assert ranked[0][0] == ParsedPlate("LEH5789", None, "pk", "pk-punjab-universal", "LEH", "5789")
    assert set(texts) == {"LEH5789", "LEHS789", "LEH57B9"}
    assert ranked[-1][0] is None and ranked[-1][1] == "LEH57B9"
    assert sum(score for *_, score in ranked) == pytest.approx(0.9)
    assert [s for *_, s in ranked] == sorted((s for *_, s in ranked), reverse=True)


def test_rerank_pools_one_and_two_line_reads_of_the_same_plate():
    ranked = rerank([(["LEH-07", "5789"], 0.3), ("LEH075789", 0.3), ("LEH5789", 0.3)], "pk")
    assert [(p.text, p.year, p.format) for p, _, _ in ranked] == [
        ("LEH5789", "07", "pk-punjab-legacy-2line"),
        ("LEH5789", None, "pk-punjab-universal"),
    ]
    # pooled (1.0 + 0.7) against 0.9, each times 0.3, rescaled to the total confidence 0.9
    assert ranked[0][2] == pytest.approx(0.9 * 1.7 / 2.6)


def test_rerank_prefers_a_plate_shape_over_a_more_confident_non_plate():
    ranked = rerank([("ZZZZZZZZZ", 0.5), ("AMD868", 0.3)], "auto")
    assert [(p and p.text, text) for p, text, _ in ranked] == [("AMD868", "AMD868"), (None, "ZZZZZZZZZ")]
    assert ranked[0][2] == pytest.approx(0.8 * 0.27 / (0.27 + 0.025))


def test_rerank_of_nothing_and_of_zero_confidence():
    assert rerank([], "pk") == []
    assert rerank([("", 0.9)], "pk") == []
    assert [score for *_, score in rerank([("ABC123", 0.0)], "pk")] == [0.0]


@pytest.mark.parametrize(
    ("lines", "hint", "expected"),
    [
        ("ABC1D23", "auto", "br"),
        ("ABC1234", "auto", "pk"),  # the Pakistani reading wins a tie
        ("ABC1234", "br", "br"),
        ("PJI5396", "auto", "br"),  # I is avoided in Punjab's new series
        ("RK755AJ", "auto", "eu"),
        ("YG9X2G", "auto", "us"),
        ("YG9X2G", "eu", "eu"),
        (["CALIFORNIA", "ABC123"], "auto", "us"),
        (["AMD-868", "ICT-ISLAMABAD"], "us", "pk"),
        ("", "auto", "pk"),
        ("", "eu", "eu"),
        ("ABCDEFGHIJ", "br", "br"),
    ],
)
def test_guess_region(lines, hint, expected):
    assert guess_region(lines, hint) == expected


def test_layout_table_is_well_formed():
    assert {layout.region for layout in LAYOUTS} == set(REGIONS)
    assert all(0 < layout.prior <= 1 for layout in LAYOUTS)
    with pytest.raises(ValueError, match="bad token"):
        Layout("pk-x", "L{2,3}=series Q", 0.5)
    with pytest.raises(ValueError, match="unknown field"):
        Layout("pk-x", "L{2}=district D{3}", 0.5)


def _label_lines(text: str, year: str | None, layout: str) -> list[str]:
    """How a reader prints a labelled plate: Punjab two-line 'LEH-07' / '5789'; a Sindh year (printed
    small as 2012 at the top right) as its own line above."""
    series, number = re.fullmatch(r"([A-Z]+)(\d+)", text).groups()
    if layout == "two-line":
        return [series + (f"-{year}" if year else ""), number]
    return ([f"20{year}"] if year else []) + [f"{series}-{number}"]


@pytest.mark.parametrize("region", ["pk", "auto"])
def test_every_legible_pk_label_parses_to_its_text_and_year(datasets, region):
    from anpr.lab.datasets import pk_crops

    crops = [crop for crop in pk_crops(datasets) if crop.legible]
    assert len(crops) > 80
    wrong = []
    for crop in crops:
        parsed = parse(_label_lines(crop.text, crop.year, crop.layout), region)
        if parsed is None or (parsed.text, parsed.year, parsed.region) != (crop.text, crop.year, "pk"):
            wrong.append((crop.path.name, crop.text, crop.year, parsed))
    assert wrong == []


def test_every_openalpr_label_parses_in_its_region(datasets):
    from anpr.lab.datasets import openalpr_photos

    photos = openalpr_photos(datasets)
    assert {photo.region for photo in photos} == {"us", "eu", "br"}
    unparsed = [(photo.region, photo.text) for photo in photos if parse(photo.text, photo.region) is None]
    assert unparsed == []
    brazil = [parse(photo.text, "br").format for photo in photos if photo.region == "br"]
    assert set(brazil) == {"br-old"}


def test_only_plausible_registration_years_are_years():
    """EU "BS 47040" once parsed as Punjab series BS, year 47, number 040 with region auto."""
    from datetime import date

    from anpr.plates.grammar import plausible_year

    assert parse(("BS47040",), "auto").year is None
    assert parse(("BS47040",), "auto").text == "BS47040"
    assert parse(("LEH50", "5789"), "pk") is None
    assert parse(("LEH99", "5789"), "pk").year == "99"
    assert parse(("LEH07", "5789"), "pk").year == "07"
    assert plausible_year("27", date(2026, 11, 25)) and not plausible_year("28", date(2026, 11, 25))
    assert plausible_year("70", date(2026, 11, 25)) and not plausible_year("69", date(2026, 11, 25))
    assert not plausible_year("7", date(2026, 11, 25)) and not plausible_year("O7", date(2026, 11, 25))


def test_openalpr_errata_match_the_published_labels_and_fit_their_formats(datasets):
    """Each correction names a label the dataset really publishes (a stale erratum would silently
    change nothing), and the corrected Slovak and GB plates fit their national layout where the
    published ones fit only the catch-all."""
    from anpr.lab.datasets import OPENALPR_ERRATA, openalpr_photos

    by_image = {str(p.path.relative_to(datasets / "openalpr-dev")): p for p in openalpr_photos(datasets)}
    for image, (published, printed, why) in OPENALPR_ERRATA.items():
        photo = by_image[image]
        assert (photo.text, photo.printed) == (published, printed) and why
        if photo.region == "eu":
            assert parse(published, "eu").format == "eu-generic"
            assert parse(printed, "eu").format != "eu-generic"
    assert all(p.printed == p.text for i, p in by_image.items() if i not in OPENALPR_ERRATA)


def test_gb_age_identifiers_are_checked_against_the_date():
    from datetime import date

    from anpr.plates.grammar import plausible_gb_age

    today = date(2026, 12, 1)
    assert plausible_gb_age("09", today) and plausible_gb_age("26", today) and plausible_gb_age("76", today)
    assert not plausible_gb_age("27", today) and not plausible_gb_age("77", today)
    assert not plausible_gb_age("01", today) and not plausible_gb_age("34", today)
    assert not plausible_gb_age("50", today)  # September 2000 plates had the old prefix format
    assert not plausible_gb_age("26", date(2026, 2, 1)) and not plausible_gb_age("76", date(2026, 8, 1))
    assert parse("OY09FEU", "eu").format == "eu-uk" and parse("OY09FEU", "eu").text == "OY09FEU"
    assert parse("RK34OAO", "eu").format == "eu-generic"


def test_a_czech_plate_carries_one_of_the_fourteen_region_letters():
    """Czech plates since 2001 read digit, region letter, character, four digits (1A2 3456); no
    region's letter is an O, so an all-digit US plate read with a 0 second (1049338) is no Czech
    plate whichever way the 0 is read."""
    assert formats.parse("1A23456").format == "eu-cz"
    assert formats.parse("2BC4567", "eu").format == "eu-cz"
    assert formats.parse("1O49338").format != "eu-cz"
    assert formats.parse("1O49338", "eu").format == "eu-generic"
    assert [t for t, _ in formats.confusable_variants("1049338", "auto")][:1] != ["1O49338"]


def test_a_narrowed_class_must_hold_only_characters_of_its_class():
    assert Layout("x-ok", "L[AB] D{2}", 1.0).regex.fullmatch("A12")
    assert not Layout("x-ok", "L[AB] D{2}", 1.0).regex.fullmatch("C12")
    with pytest.raises(ValueError, match="not all of class L"):
        Layout("x-bad", "L[A1] D{2}", 1.0)
