"""Which earlier groups a request's title is compared with (demand.StemIndex): those whose first title
shares at least half of the word stems of the shorter of the two titles."""

from __future__ import annotations

from collections import Counter

from feedback.capitalisation.demand import StemIndex, word_stems

TITLES = [
    "zones humides",  # leader 0
    "plan prevention risques inondation",  # leader 1
    "debit cours eau",  # leader 2
    "cartographie zones humides bassin loire",
    "plan local urbanisme",
    "debits cours eau stations",
    "zones inondables",
]


def index_of(leaders: list[str]) -> StemIndex:
    frequency = Counter(stem for title in TITLES for stem in word_stems(title))
    index = StemIndex({stem: place for place, stem in enumerate(sorted(frequency, key=lambda s: (frequency[s], s)))})
    for number, title in enumerate(leaders):
        index.add(number, word_stems(title))
    return index


def test_a_longer_title_holding_all_the_words_of_a_group_is_compared_with_it():
    index = index_of(TITLES[:3])
    assert index.candidates(word_stems("cartographie zones humides bassin loire")) == [0]
    # Plural and singular share their stems: "debits" and "debit" both give "debi".
    assert index.candidates(word_stems("debits cours eau stations")) == [2]


def test_titles_sharing_one_common_word_of_several_are_not_compared():
    index = index_of(TITLES[:3])
    assert index.candidates(word_stems("plan local urbanisme")) == []  # "plan" only: 1 of the 3 needed 2
    # "zone" with leader 0, "inon" with leader 1: each 1 of the 2 stems of the shorter title, half of it.
    assert index.candidates(word_stems("zones inondables")) == [0, 1]


def test_a_short_group_title_is_found_from_a_long_one_and_the_other_way_round():
    long_first = index_of(["cartographie zones humides bassin loire"])
    assert long_first.candidates(word_stems("zones humides")) == [0]
    short_first = index_of(["zones humides"])
    assert short_first.candidates(word_stems("cartographie zones humides bassin loire")) == [0]
