"""How the three-part notation is written: plain text (terminal, markdown, JSON) or LaTeX.

Text follows the issue's spelling (v-1, v̇2, v̄-1, ∂v1/∂v-1); LaTeX cells are math ($...$).
An operand is a `Sym`: its text and whether it is a trace variable (numbers get parentheses
as function arguments, variables do not: `ln v-1`, `exp(1000)`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

DOT, BAR = "\u0307", "\u0304"


class Sym(NamedTuple):
    """A rendered operand: its text, and True for a trace variable v_k."""

    text: str
    node: bool = True


def number_text(value: float) -> str:
    """A number as written in a definition: 2, 0.5, -1, 1e+20."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class Notation:
    """The symbols of one notation; `TEXT` and `LATEX` are the two instances."""

    def __init__(self, latex: bool):
        self.latex = latex
        self.times = r" \times " if latex else " × "

    # trace variables and their tangents and adjoints
    def v(self, k: int) -> str:
        return f"v_{{{k}}}" if self.latex else f"v{k}"

    def vdot(self, k: int) -> str:
        return rf"\dot{{v}}_{{{k}}}" if self.latex else f"v{DOT}{k}"

    def vbar(self, k: int) -> str:
        return rf"\bar{{v}}_{{{k}}}" if self.latex else f"v{BAR}{k}"

    # user variables (x1, w, lr) and the output y
    def x(self, name: str) -> str:
        if not self.latex:
            return name
        m = re.match(r"^([A-Za-z])(\d+)$", name)
        if m:
            return f"{m.group(1)}_{{{m.group(2)}}}"
        return name if len(name) == 1 else rf"\mathit{{{name.replace('_', chr(92) + '_')}}}"

    def xdot(self, name: str) -> str:
        return self._accent(name, DOT, "dot")

    def xbar(self, name: str) -> str:
        return self._accent(name, BAR, "bar")

    def _accent(self, name: str, mark: str, command: str) -> str:
        if not self.latex:
            return unicodedata.normalize("NFC", name[0] + mark + name[1:])
        base = self.x(name)
        m = re.match(r"^(\w)(_\{\d+\})$", base)
        if m:
            return rf"\{command}{{{m.group(1)}}}{m.group(2)}"
        return rf"\{command}{{{base}}}"

    @property
    def y(self) -> str:
        return "y"

    @property
    def ydot(self) -> str:
        return r"\dot{y}" if self.latex else "ẏ"

    @property
    def ybar(self) -> str:
        return r"\bar{y}" if self.latex else "ȳ"

    # constants and operands
    def number(self, value: float) -> Sym:
        text = number_text(value)
        return Sym(f"({text})" if value < 0 else text, node=False)

    def constant(self, name: str) -> Sym:
        return Sym({"pi": r"\pi" if self.latex else "π"}.get(name, name), node=False)

    # functions and powers
    _LATEX_FUNCTIONS = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "exp": r"\exp",
                        "ln": r"\ln", "tanh": r"\tanh", "relu": r"\operatorname{relu}",
                        "sgn": r"\operatorname{sgn}"}

    def fn(self, name: str, arg: Sym, power: int = 1) -> str:
        """`ln v-1`, `cos² v0`, `exp(1000)`; LaTeX `\\ln v_{-1}`, `\\cos^2 v_{0}`."""
        head = self._LATEX_FUNCTIONS.get(name, name) if self.latex else name
        if power != 1:
            head += f"^{power}" if self.latex else "²" if power == 2 else f"^{power}"
        text = arg.text.strip("()") if not arg.node else arg.text
        return f"{head} {text}" if arg.node else f"{head}({text})"

    def call(self, name: str, arg: Sym) -> str:
        """Functions always written with parentheses: σ(v0), H(v0)."""
        head = {"sigmoid": (r"\sigma", "σ")}.get(name, (name, name))[0 if self.latex else 1]
        return f"{head}({arg.text})"

    def sqrt(self, arg: Sym) -> str:
        return rf"\sqrt{{{arg.text}}}" if self.latex else f"√{arg.text}"

    def abs(self, arg: Sym) -> str:
        return rf"\lvert {arg.text} \rvert" if self.latex else f"|{arg.text}|"

    def power(self, base: Sym, exponent: str, atomic: bool = True) -> str:
        """`v0^2`, `v0^(v1 - 1)`; LaTeX `v_{0}^{2}`."""
        if self.latex:
            return f"{base.text}^{{{exponent}}}"
        return f"{base.text}^{exponent}" if atomic else f"{base.text}^({exponent})"

    def partial(self, i: int, j: int) -> str:
        """∂v_i/∂v_j."""
        if self.latex:
            return rf"\frac{{\partial {self.v(i)}}}{{\partial {self.v(j)}}}"
        return f"∂{self.v(i)}/∂{self.v(j)}"

    def math(self, text: str) -> str:
        """A table cell: LaTeX math in $...$, plain text as is."""
        return f"${text}$" if self.latex else text


TEXT = Notation(latex=False)
LATEX = Notation(latex=True)
