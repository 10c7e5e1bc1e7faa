"""A few helpers to write SVG as plain text: escaped attributes and text, elements, documents."""

from __future__ import annotations

from xml.sax.saxutils import escape as _escape

from ..platform.usertext import visible

FONT = "font-family:DejaVu Sans,Helvetica,Arial,sans-serif"


def esc(text) -> str:
    """Text or an attribute value made safe for XML (quotes included); control and invisible
    characters, which XML forbids or which would reorder what is shown, as visible escapes
    (line breaks stay: a tooltip may have several lines)."""
    return _escape(visible(text), {'"': "&quot;", "'": "&#39;"})


def num(value: float) -> str:
    """A coordinate with at most two decimals ('12', '12.5')."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def attrs(**values) -> str:
    """' name="value" ...' (class_ -> class, data_x -> data-x; None values left out)."""
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        name = name.rstrip("_").replace("_", "-")
        text = num(value) if isinstance(value, float) else str(value)
        parts.append(f' {name}="{esc(text)}"')
    return "".join(parts)


def rect(x, y, w, h, **more) -> str:
    return f"<rect{attrs(x=float(x), y=float(y), width=float(w), height=float(h), **more)}/>"


def text(x, y, content, **more) -> str:
    return f"<text{attrs(x=float(x), y=float(y), **more)}>{esc(content)}</text>"


def line(x1, y1, x2, y2, **more) -> str:
    return f"<line{attrs(x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **more)}/>"


def edge(a: tuple, b: tuple, source: str, target: str) -> str:
    """A left-to-right curve from point a to point b (control points at the middle x), with
    data-from/data-to naming what it joins."""
    mid = (a[0] + b[0]) / 2
    return (
        f'<path class="edge"{attrs(data_from=source, data_to=target)} d="M{num(a[0])} '
        f"{num(a[1])}C{num(mid)} {num(a[1])} {num(mid)} {num(b[1])} {num(b[0])} "
        f'{num(b[1])}"/>'
    )


def route(points: list, source: str, target: str, class_: str = "edge", **more) -> str:
    """A path through `points` (top to bottom): straight lines along an axis, a curve that
    leaves and arrives vertically between points that differ in both; with data-from and
    data-to naming what it joins."""
    (x0, y0), parts = points[0], []
    for (x1, y1), (x2, y2) in zip(points, points[1:]):
        if abs(x2 - x1) < 0.01:
            parts.append(f"V{num(y2)}")
        elif abs(y2 - y1) < 0.01:
            parts.append(f"H{num(x2)}")
        else:
            mid = (y1 + y2) / 2
            parts.append(f"C{num(x1)} {num(mid)} {num(x2)} {num(mid)} {num(x2)} {num(y2)}")
    return (
        f"<path{attrs(class_=class_, data_from=source, data_to=target, **more)} "
        f'd="M{num(x0)} {num(y0)}{"".join(parts)}"/>'
    )


def along(a: tuple, b: tuple, t: float) -> tuple[float, float]:
    """The point at parameter t (0 at a, 1 at b) of the `edge` curve from a to b."""
    mid = (a[0] + b[0]) / 2
    u = 1 - t
    x = u**3 * a[0] + 3 * u * u * t * mid + 3 * u * t * t * mid + t**3 * b[0]
    y = (u**3 + 3 * u * u * t) * a[1] + (3 * u * t * t + t**3) * b[1]
    return x, y


def stylesheet(style: str) -> str:
    """The text of a document's <style>: the font, then `style` (the web page allows exactly
    these texts by their hashes, see web/app.py)."""
    return f"text{{{FONT};font-size:12px;fill:#222}}{style}"


def document(width: float, height: float, body: list[str], title: str, style: str = "") -> str:
    """A standalone SVG document (with the XML declaration) of the given size."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg"{attrs(width=float(width), height=float(height))}'
        f' viewBox="0 0 {num(width)} {num(height)}" role="img">'
    )
    css = f"<style>{stylesheet(style)}</style>"
    return (
        "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                head,
                f"<title>{esc(title)}</title>",
                css,
                *body,
                "</svg>",
            ]
        )
        + "\n"
    )


def strip_declaration(svg: str) -> str:
    """The <svg> element alone, for inlining in HTML."""
    return svg.split("?>", 1)[1].lstrip() if svg.startswith("<?xml") else svg
