"""Mojibake repair is a decoding rule, not a list of names."""

from ingest.repair import clean_text, repair_mojibake


def test_utf8_read_as_thai_codepage_is_decoded_back():
    assert repair_mojibake("Woisetschlรคger") == "Woisetschläger"
    assert repair_mojibake("Pirรณg, Brรณdka") == "Piróg, Bródka"


def test_lost_continuation_byte_is_restored_with_matching_case():
    assert repair_mojibake("Czuba, Michaล") == "Czuba, Michał"


def test_repair_works_on_names_it_has_never_seen():
    for word in ("Gödel", "Łukasz", "Müller-Schöne", "Ångström", "Nguyễn"):
        mangled = word.encode("utf-8").decode("cp874", errors="ignore")
        assert mangled != word
        assert repair_mojibake(mangled) == word


def test_a_lost_byte_that_cannot_be_known_still_leaves_a_latin_letter():
    mangled = "Dvořák".encode("utf-8").decode("cp874", errors="ignore")
    repaired = repair_mojibake(mangled)
    assert repaired.startswith("Dvo") and repaired.endswith("ák")
    assert not any("\u0e00" <= ch <= "\u0e7f" for ch in repaired)


def test_genuine_thai_and_other_scripts_are_untouched():
    for text in ("ภาษาไทย", "Π-NeSy", "TÜLU 3", "naïve café"):
        assert repair_mojibake(text) == text


def test_clean_text_collapses_whitespace():
    assert clean_text("  a \t b\n c  ") == "a b c"
