"""Chapter openers: the credit line tells what survives of each part of the series."""

import re

from musicnn_nb.present import chapter


def test_part_1_links_its_known_address_and_unknown_parts_a_search():
    assert chapter.part_url(1) == "https://highnoongmt.wordpress.com/2022/10/31/digging-into-musicnn-pt-1/"
    assert "?s=" in chapter.part_url(4)


def test_credit_says_what_survives_of_each_part():
    for part in range(1, chapter.SERIES_PARTS + 1):
        text = chapter.credit_text(part)
        assert chapter.part_url(part) in text
        if part in chapter.SURVIVING:
            assert "survives" in text and "not known to survive" not in text
        else:
            assert "not known to survive" in text and "reconstructs" in text


def test_chapters_past_the_series_link_no_part():
    for part in (13, 14):
        text = chapter.credit_text(part)
        assert "did not cover this stage" in text
        assert not re.search(r"\]\(", text)  # no link to a blog part


def test_provenance_names_the_surviving_and_the_reconstructed_parts():
    text = chapter.provenance_text()
    assert "parts 9 and 12" in text
    assert "1–8, 10 and 11" in text


def test_the_second_recording_ships_with_its_licence_and_credit():
    path = chapter.second_recording()
    assert path.is_file() and path.suffix == ".flac"
    assert (path.parent / "LICENSE-MIT-sectoid.txt").is_file()
    readme = (path.parent / "README.md").read_text()
    assert path.name in readme and "Sectoid" in readme and "MIT" in readme
