import pytest

from advent.content.segments import count_segments

EMOJI = "\U0001f600"  # a grinning face: outside the BMP, so a surrogate pair in UTF-16
MAN, WOMAN, GIRL, BOY, ZWJ = "\U0001f468", "\U0001f469", "\U0001f467", "\U0001f466", "\u200d"
FAMILY = ZWJ.join([MAN, WOMAN, GIRL, BOY])  # 4 surrogate pairs + 3 joiners: 11 units
FLAG = "\U0001f1ec\U0001f1e7"  # two regional indicators, GB: 4 units
THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"  # a thumbs up with a skin-tone modifier: 4 units
KEYCAP_ONE = "1\ufe0f\u20e3"  # digit, variation selector, enclosing keycap: 3 units


def test_160_plain_characters_fit_one_segment() -> None:
    count = count_segments("a" * 160)
    assert (count.encoding, count.segments, count.units, count.characters) == ("GSM-7", 1, 160, 160)


def test_161_plain_characters_need_two_segments() -> None:
    assert count_segments("a" * 161).segments == 2


def test_306_plain_characters_fit_two_segments_and_307_need_three() -> None:
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3


def test_extension_characters_cost_two_septets() -> None:
    count = count_segments("{}[]~|^\\€")
    assert count.encoding == "GSM-7"
    assert count.characters == 9
    assert count.units == 18
    # 80 euro signs are 160 septets: one segment; one more tips it over.
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 80 + "a").segments == 2


def test_form_feed_is_an_extension_character() -> None:
    assert count_segments("a\fb").units == 4


def test_escape_pair_is_never_split_across_segments() -> None:
    # 152 + 2 + 152 = 306 septets, which would fit two segments if the € could be split;
    # it cannot, so it moves whole into segment 2, which then overflows into a third.
    text = "a" * 152 + "€" + "a" * 152
    count = count_segments(text)
    assert count.units == 306
    assert count.segments == 3


def test_escape_pair_moves_to_the_next_segment_at_the_153_boundary() -> None:
    # Segment 1 holds 152 septets, segment 2 takes the € and 151 more: exactly 153.
    assert count_segments("a" * 152 + "€" + "a" * 151).segments == 2


def test_70_ucs2_units_fit_one_segment_and_71_need_two() -> None:
    single = count_segments("ç" * 70)
    assert (single.encoding, single.segments, single.units) == ("UCS-2", 1, 70)
    assert count_segments("ç" * 71).segments == 2


def test_134_ucs2_units_fit_two_segments_and_135_need_three() -> None:
    assert count_segments("ç" * 134).segments == 2
    assert count_segments("ç" * 135).segments == 3


def test_emoji_counts_as_two_units_and_one_character() -> None:
    count = count_segments("Hello " + EMOJI)
    assert count.encoding == "UCS-2"
    assert count.characters == 7
    assert count.units == 8
    assert count.unicode_characters == [EMOJI]


def test_surrogate_pair_is_never_split_at_the_67_boundary() -> None:
    # 66 + 2 + 66 = 134 units: two segments if the emoji could be split. It cannot.
    text = "a" * 66 + EMOJI + "a" * 66
    count = count_segments(text)
    assert count.units == 134
    assert count.segments == 3


def test_curly_apostrophe_forces_ucs2_and_is_reported() -> None:
    count = count_segments("It\u2019s a lovely day, isn\u2019t it")
    assert count.encoding == "UCS-2"
    assert count.unicode_characters == ["\u2019"]


def test_unicode_characters_are_distinct_in_order_of_first_appearance() -> None:
    count = count_segments("\u201cHi\u201d \u2014 \u201cbye\u201d")
    assert count.unicode_characters == ["\u201c", "\u201d", "\u2014"]


def test_pound_sign_and_e_acute_stay_gsm7() -> None:
    count = count_segments("Café lunch, £5 each")
    assert count.encoding == "GSM-7"
    assert count.unicode_characters == []
    assert count.units == 19


def test_greek_capitals_and_accented_capitals_stay_gsm7() -> None:
    assert count_segments("ΔΦΓΛΩΠΨΣΘΞ ÇØÅÄÖÑÜÉÆß§¿¡¥").encoding == "GSM-7"


def test_lowercase_c_cedilla_forces_ucs2() -> None:
    count = count_segments("Façade")
    assert count.encoding == "UCS-2"
    assert count.unicode_characters == ["ç"]


def test_one_emoji_switches_the_whole_message_to_ucs2_limits() -> None:
    # 100 plain characters are one GSM-7 segment; with an emoji they need two UCS-2 ones.
    assert count_segments("a" * 100).segments == 1
    assert count_segments("a" * 100 + EMOJI).segments == 2


def test_newlines_cost_one_septet() -> None:
    count = count_segments("one\r\ntwo")
    assert (count.encoding, count.units) == ("GSM-7", 8)


def test_empty_text_is_zero_segments() -> None:
    count = count_segments("")
    assert (count.segments, count.units, count.characters) == (0, 0, 0)


@pytest.mark.parametrize(
    "emoji, units",
    [
        (FAMILY, 11),
        (FLAG, 4),
        (THUMBS_UP_MEDIUM, 4),
        (KEYCAP_ONE, 3),
    ],
)
def test_an_emoji_sequence_is_one_character_of_all_its_units(emoji: str, units: int) -> None:
    count = count_segments(emoji)
    assert (count.encoding, count.characters, count.units) == ("UCS-2", 1, units)


@pytest.mark.parametrize(
    "emoji, lead",
    [
        # Each starts where splitting it by code point would fill segment 1 (66 or 67 units).
        (FAMILY, 60),
        (FLAG, 65),
        (THUMBS_UP_MEDIUM, 65),
        (KEYCAP_ONE, 65),
    ],
)
def test_an_emoji_sequence_at_the_67_boundary_moves_wholly_to_the_next_segment(emoji: str, lead: int) -> None:
    units = count_segments(emoji).units
    # Segment 1 keeps only the lead; segment 2 takes the whole emoji and is then exactly full.
    fits = "a" * lead + emoji + "a" * (67 - units)
    assert count_segments(fits).segments == 2
    # One more unit than that needs a third segment, though the total is still within 134,
    # which two segments would hold if the emoji could be split.
    overflows = fits + "a"
    assert count_segments(overflows).units <= 134
    assert count_segments(overflows).segments == 3


def test_a_cluster_longer_than_a_segment_is_split_between_code_points_not_surrogates() -> None:
    # 45 men joined by 44 joiners are one cluster of 134 units. Split between code points,
    # 22 man-joiner pairs fill 66 units of each segment; the next surrogate pair stays whole.
    chain = ZWJ.join([MAN] * 45)
    count = count_segments(chain)
    assert (count.characters, count.units) == (1, 134)
    assert count.segments == 3


def test_combining_marks_longer_than_a_segment_still_count() -> None:
    count = count_segments("e" + "\u0301" * 100)
    assert (count.characters, count.units, count.segments) == (1, 101, 2)


def test_crlf_is_one_character_but_two_septets() -> None:
    count = count_segments("one\r\ntwo")
    assert (count.characters, count.units) == (7, 8)
