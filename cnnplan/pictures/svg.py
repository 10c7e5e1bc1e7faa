"""A few helpers to write SVG as plain text: escaped attributes and text, elements, documents."""

from __future__ import annotations

from xml.sax.saxutils import escape as _escape

FONT = "font-family:DejaVu Sans,Helvetica,Arial,sans-serif"


def esc(text) -> str:
    """Text or an attribute value made safe for XML (quotes included)."""
    return _escape(str(text), {'"': "&quot;", "'": "&#39;"})


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
    return (f"<line{attrs(x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **more)}/>")


def document(width: float, height: float, body: list[str], title: str, style: str = "") -> str:
    """A standalone SVG document (with the XML declaration) of the given size."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg"{attrs(width=float(width), height=float(height))}'
            f' viewBox="0 0 {num(width)} {num(height)}" role="img">')
    css = f"<style>text{{{FONT};font-size:12px;fill:#222}}{style}</style>"
    return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', head,
                      f"<title>{esc(title)}</title>", css, *body, "</svg>"]) + "\n"


def strip_declaration(svg: str) -> str:
    """The <svg> element alone, for inlining in HTML."""
    return svg.split("?>", 1)[1].lstrip() if svg.startswith("<?xml") else svg
