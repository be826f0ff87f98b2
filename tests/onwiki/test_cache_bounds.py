"""The onwiki caches keep at most their bound, the least recently used dropped first (issue 29)."""

from __future__ import annotations

from automod.onwiki import exclusion, i18n


def test_message_files_kept_parsed_stay_within_their_bound_oldest_dropped_first() -> None:
    i18n.parsed_file.cache_clear()
    codes = [f"x{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(i18n.FILES_CACHED + 1)]  # unknown: empty
    for code in ["en", *codes]:
        assert i18n.message_file(code) == {} or code == "en"
    info = i18n.parsed_file.cache_info()
    assert info.currsize == i18n.FILES_CACHED
    assert i18n.message_file("en")["automod-warning-template"] == "uw-vandalism$1"  # read again: it was dropped
    assert i18n.parsed_file.cache_info().misses == info.misses + 1
    i18n.message_file(codes[-1])  # the newest is still there
    assert i18n.parsed_file.cache_info().hits == info.hits + 1


def test_text_page_classes_stay_within_their_bound() -> None:
    exclusion.text_page_class.cache_clear()
    bound = exclusion.text_page_class.cache_info().maxsize
    assert bound is not None
    bases = [type(f"Page{i}", (), {"__init__": lambda self, *args: None}) for i in range(bound + 1)]
    made = [exclusion.text_page_class(base) for base in bases]
    assert exclusion.text_page_class.cache_info().currsize == bound
    assert exclusion.text_page_class(bases[-1]) is made[-1]
    assert exclusion.text_page_class(bases[0]) is not made[0]  # the oldest was dropped
