"""Numbers as the tables show them: rounded to --decimals places, every place printed."""

from __future__ import annotations

from decimal import Decimal


def fixed(value: float, decimals: int) -> Decimal:
    """`value` rounded to `decimals` places as a Decimal, which keeps every place when printed
    (-0.9900, not -0.99) and which the core's reporters align as a number; exact integers
    stay integers (3)."""
    if value == int(value) and abs(value) < 1e15:
        return Decimal(int(value))
    rounded = round(value, decimals) + 0.0
    text = f"{rounded:.{decimals}f}" if abs(rounded) < 1e15 else f"{value:.{decimals}e}"
    return Decimal(text)
