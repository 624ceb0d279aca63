"""Pages print every figure a person reads with the Vietnamese decimal comma (points and
averages did already; rates, shares, item statistics and an index's arithmetic now too),
while files for other programs keep their own formats."""
from __future__ import annotations

from quizapp.templating import decimal, decimal_commas


def test_decimal_prints_a_comma_and_a_dash_for_nothing():
    assert decimal(62.5) == "62,50"
    assert decimal(100.0) == "100,00"
    assert decimal(0.123456, 3) == "0,123"
    assert decimal(None) == "—"


def test_decimal_commas_changes_only_points_between_digits():
    assert decimal_commas("(50×50.00 + 40×80.00 + 10×50.00) ÷ 100 = 62.00") == \
        "(50×50,00 + 40×80,00 + 10×50,00) ÷ 100 = 62,00"
    assert decimal_commas("Hết giờ. 3 câu.") == "Hết giờ. 3 câu."
    assert decimal_commas(None) == "—"
