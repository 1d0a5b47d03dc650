"""Check digits of Japanese identification numbers.

Both algorithms are fixed by law, so they live in one small module every layer can use:
the validators check read values with them, the sample generator makes valid numbers.
"""

from __future__ import annotations

__all__ = [
    "corporate_number_check_digit",
    "is_valid_corporate_number",
    "is_valid_mynumber",
    "mynumber_check_digit",
]


def mynumber_check_digit(first11: str) -> int:
    """Check digit of an individual number (My Number) from its first 11 digits.

    Ministry ordinance (総務省令第85号, 2014) art. 5: Pn is the n-th digit counted from the right
    of the 11 digits, Qn = n + 1 for n <= 6 and n - 5 otherwise; the check digit is
    11 - (Σ Pn·Qn mod 11), or 0 when the remainder is 0 or 1.
    """
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError("need exactly 11 ascii digits")
    total = 0
    for n, ch in enumerate(reversed(first11), start=1):
        q = n + 1 if n <= 6 else n - 5
        total += int(ch) * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def is_valid_mynumber(number: str) -> bool:
    """True when ``number`` is 12 ascii digits whose last digit is the right check digit."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return False
    return mynumber_check_digit(number[:11]) == int(number[11])


def corporate_number_check_digit(base12: str) -> int:
    """Check digit (the first digit) of a corporate number from the other 12 digits.

    9 - (Σ Pn·Qn mod 9), Pn the n-th digit counted from the right of the 12, Qn = 1 for odd n
    and 2 for even n (法人番号の指定等に関する省令 art. 2).
    """
    if len(base12) != 12 or not base12.isascii() or not base12.isdigit():
        raise ValueError("need exactly 12 ascii digits")
    total = sum(int(ch) * (1 if n % 2 else 2) for n, ch in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def is_valid_corporate_number(number: str) -> bool:
    """True when ``number`` is 13 ascii digits whose first digit is the right check digit."""
    if len(number) != 13 or not number.isascii() or not number.isdigit():
        return False
    return corporate_number_check_digit(number[1:]) == int(number[0])
