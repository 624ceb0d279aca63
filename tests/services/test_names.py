"""Vietnamese name order: given name (last word) first, Vietnamese letters and tones."""
from quizapp.services.people.names import sort_key


def test_given_name_sorts_first():
    names = ["Trần Văn Bình", "Nguyễn Thị An", "Lê Văn An", "Phạm Minh Cường"]
    assert sorted(names, key=sort_key) == ["Lê Văn An", "Nguyễn Thị An", "Trần Văn Bình",
                                           "Phạm Minh Cường"]


def test_vietnamese_letters_follow_their_base_letter():
    # a < ă < â, d < đ, o < ô < ơ, u < ư — unlike code-point order.
    names = ["X Đức", "X Dũng", "X Ân", "X Ăn", "X An", "X Ơn", "X Ôn", "X On", "X Ưng", "X Ung"]
    assert sorted(names, key=sort_key) == ["X An", "X Ăn", "X Ân", "X Dũng", "X Đức",
                                           "X On", "X Ôn", "X Ơn", "X Ung", "X Ưng"]


def test_tones_break_ties_after_letters():
    names = ["A Mã", "A Ma", "A Mà", "A Mạ", "A Má", "A Mả"]
    # no tone, huyền, hỏi, ngã, sắc, nặng
    assert sorted(names, key=sort_key) == ["A Ma", "A Mà", "A Mả", "A Mã", "A Má", "A Mạ"]


def test_family_name_breaks_ties_on_the_given_name():
    assert sorted(["Vũ Thị Lan", "Bùi Thị Lan"], key=sort_key) == ["Bùi Thị Lan", "Vũ Thị Lan"]
