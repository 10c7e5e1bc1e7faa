"""Numbers as the tables show them: rounded to --decimals places, every place printed."""

from __future__ import annotations


class Fixed(float):
    """A table value rounded to `decimals` places that prints all of them (-0.9900, not -0.99),
    so a reader sees the precision asked for; exact integers print as integers (3).
    A float subclass, so every reporter still treats it as a number (right-aligned)."""

    def __new__(cls, value: float, decimals: int):
        rounded = round(value, decimals) + 0.0
        self = super().__new__(cls, rounded)
        exact = value == int(value) and abs(value) < 1e15
        self.text = str(int(value)) if exact else \
            f"{rounded:.{decimals}f}" if abs(rounded) < 1e15 else f"{value:.{decimals}e}"
        return self

    def __format__(self, spec: str) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def __reduce__(self):            # copy and pickle keep the text
        return _restore, (float(self), self.text)


def _restore(value: float, text: str) -> Fixed:
    self = float.__new__(Fixed, value)
    self.text = text
    return self
