"""A small server-side SVG renderer: horizontal bars, a line over rounds, a heat map.

Pictures scale to the page width (viewBox), use system fonts, and carry their numbers
as text so they read on a phone and in print; every label is escaped.
"""
from __future__ import annotations

from markupsafe import Markup, escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, Arial, sans-serif"'
RED = "#b3261e"
GRID = "#d9dee4"
INK = "#1d232b"
MUTED = "#5b6572"


def _svg(width: int, height: int, body: str, title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart" {FONT} font-size="13">'
        f'<title>{escape(title)}</title>{body}</svg>')


def _short(text: str, limit: int) -> str:
    """Keep the end, which tells similar names apart ("… số 12")."""
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def bars(items: list[tuple[str, float]], title: str, max_value: float = 100.0,
         unit: str = "%") -> Markup:
    """One horizontal bar per item (label, value 0..max_value)."""
    row, label_w, width = 22, 172, 390
    height = row * len(items) + 10
    parts = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        length = 0 if max_value <= 0 else max(0.0, min(1.0, value / max_value)) * (width - label_w - 50)
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="{INK}">'
                     f'<title>{escape(label)}</title>{escape(_short(label, 20))}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 7}" fill="{RED}" rx="2"/>'
                     f'<text x="{label_w + length + 4:.1f}" y="{y + 15}" fill="{MUTED}">{value:.0f}{escape(unit)}</text>')
    return _svg(width, height, "".join(parts), title)


def line(points: list[tuple[str, float | None]], title: str, max_value: float = 100.0,
         unit: str = "%") -> Markup:
    """Values over ordered labels (rounds); None leaves a gap."""
    width, height, left, bottom, top = 360, 190, 34, 36, 22
    n = max(1, len(points))
    step = (width - left - 36) / max(1, n - 1)
    plot_h = height - top - bottom

    def y_of(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, v / max_value)))

    parts = []
    for tick in (0, 50, 100):
        y = y_of(tick * max_value / 100)
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="11">'
                     f'{tick * max_value / 100:.0f}</text>')
    path = []
    for i, (label, value) in enumerate(points):
        x = left + 14 + (step * i if n > 1 else (width - left - 36) / 2)
        parts.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="middle" fill="{MUTED}" font-size="11">'
                     f'{escape(_short(label, 10))}</text>')
        if value is None:
            continue
        y = y_of(value)
        path.append(f"{'M' if not path else 'L'}{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{RED}"/>'
                     f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle" fill="{INK}" font-size="11">'
                     f'{value:.0f}{escape(unit)}</text>')
    if len(path) > 1:
        parts.insert(0, f'<path d="{" ".join(path)}" fill="none" stroke="{RED}" stroke-width="2"/>')
    return _svg(width, height, "".join(parts), title)


def _heat_colour(rate: float) -> str:
    # red (0) → amber (0.5) → green (1), light enough for black text
    if rate < 0.5:
        t = rate / 0.5
        r, g, b = 244, int(163 + (214 - 163) * t), int(160 + (120 - 160) * t)
    else:
        t = (rate - 0.5) / 0.5
        r, g, b = int(244 - (244 - 150) * t), int(214 + (220 - 214) * t), int(120 + (150 - 120) * t)
    return f"rgb({r},{g},{b})"


def heatmap(rows: list[str], columns: list[str], cells: dict[tuple[int, int], tuple[int, int]],
            title: str) -> Markup:
    """rows × columns of (answered, right): each cell shows the share right, coloured."""
    cell_w, cell_h, label_w, head_h = 44, 24, 140, 120
    width = label_w + cell_w * len(columns) + 6
    height = head_h + cell_h * len(rows) + 6
    parts = []
    for j, column in enumerate(columns):
        x = label_w + j * cell_w + cell_w / 2
        parts.append(f'<text transform="translate({x + 4:.1f},{head_h - 6}) rotate(-55)" fill="{INK}" '
                     f'font-size="11"><title>{escape(column)}</title>{escape(_short(column, 20))}</text>')
    for i, row in enumerate(rows):
        y = head_h + i * cell_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" fill="{INK}" font-size="12">'
                     f'<title>{escape(row)}</title>{escape(_short(row, 18))}</text>')
        for j in range(len(columns)):
            answered, right = cells.get((i, j), (0, 0))
            x = label_w + j * cell_w
            if answered:
                rate = right / answered
                parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                             f'fill="{_heat_colour(rate)}"><title>{right}/{answered}</title></rect>'
                             f'<text x="{x + cell_w / 2}" y="{y + 16}" text-anchor="middle" font-size="11" '
                             f'fill="{INK}">{rate * 100:.0f}</text>')
            else:
                parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                             f'fill="#f2f4f7"/><text x="{x + cell_w / 2}" y="{y + 16}" text-anchor="middle" '
                             f'font-size="11" fill="{MUTED}">–</text>')
    return _svg(width, height, "".join(parts), title)
