from apps.sms.segments import segment


def test_plain_ascii_is_gsm7_and_160_characters_fit_one_segment():
    one = segment("a" * 160)
    assert (one.encoding, one.units, one.segments) == ("gsm7", 160, 1)
    assert segment("a" * 161).segments == 2
    assert segment("a" * 306).segments == 2 and segment("a" * 307).segments == 3


def test_extension_characters_cost_two_septets_and_are_never_split():
    assert segment("€" * 80).units == 160 and segment("€" * 80).segments == 1
    assert segment("€" * 81).segments == 2
    # 152 septets then a two-septet character: it moves whole to the second part.
    assert segment("a" * 152 + "€" + "a" * 152).segments == 3


def test_any_character_outside_gsm7_makes_the_text_ucs2():
    assert segment("Grüße").encoding == "gsm7"  # ü and ß are in the GSM-7 alphabet
    text = "Привет"
    assert segment(text).encoding == "ucs2"
    assert segment("ç" * 70).encoding == "ucs2"
    assert segment("ç" * 70).segments == 1 and segment("ç" * 71).segments == 2
    assert segment("ç" * 134).segments == 2 and segment("ç" * 135).segments == 3


def test_emoji_are_two_utf16_units_and_surrogate_pairs_stay_whole():
    assert segment("😀" * 35).units == 70 and segment("😀" * 35).segments == 1
    assert segment("😀" * 36).segments == 2
    # 67-unit parts: 1 + 33 pairs fill the first; the 34th pair cannot be split across parts.
    assert segment("a" + "😀" * 35).segments == 2
    assert segment("a" + "😀" * 67).segments == 3
