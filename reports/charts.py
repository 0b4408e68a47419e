"""Small pygal charts for the PDF reports, as ``data:`` URIs of static SVG (no JavaScript).

Made to print in black and white: series are told apart by fill pattern (solid dark grey, diagonal
hatching, white with a black outline), not by hue, and every bar carries its value as a direct label.
Text uses the reports' CJK faces by family name; WeasyPrint draws the SVG with the document's
``@font-face`` rules, so Chinese labels render with the embedded WenQuanYi Micro Hei.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

FONT = '"WenQuanYi Micro Hei", "AR PL SungtiL GB", sans-serif'

# Fills for series 0, 1, 2: solid dark grey, black diagonal hatching on white, white outlined.
_PATTERNS = (
    '<pattern id="ys-hatch" patternUnits="userSpaceOnUse" width="7" height="7">'
    '<rect width="7" height="7" fill="#fff"/>'
    '<path d="M0,7 L7,0 M-1,1 L1,-1 M6,8 L8,6" stroke="#000" stroke-width="1.3"/></pattern>'
)
_SERIES_CSS = (
    "inline:"
    ".color-0 .rect, rect.color-0 {fill: #4a4a4a !important; stroke: #000 !important;"
    " stroke-width: 1 !important}"
    ".color-1 .rect, rect.color-1 {fill: url(#ys-hatch) !important; stroke: #000 !important;"
    " stroke-width: 1 !important}"
    ".color-2 .rect, rect.color-2 {fill: #fff !important; stroke: #000 !important;"
    " stroke-width: 1.2 !important}"
    ".text-overlay text.value {fill: #000 !important}"
    ".axis .guide.line {stroke: #c8c8c8 !important; stroke-dasharray: none !important}"
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
_VALUE = re.compile(r'<text text-anchor="middle" x="([\d.]+)"([^>]*) class="value"')


# Text sizes at print size (points): every label, value and legend at least MIN_PRINT_PT.
MIN_PRINT_PT = 8
LABEL_PT, VALUE_PT, LEGEND_PT = 9.5, 8.5, 9.5
PT_MM = 25.4 / 72


def px_for(points: float, width_px: int, print_mm: float) -> int:
    """The SVG font size (px) that prints at ``points`` when ``width_px`` is set ``print_mm`` wide
    (rounded up: never smaller than asked)."""
    import math

    return math.ceil(points * PT_MM * width_px / print_mm)


def _style(width_px: int = 900, print_mm: float = 156) -> Style:
    label, value, legend = (px_for(pt, width_px, print_mm) for pt in (LABEL_PT, VALUE_PT, LEGEND_PT))
    return Style(
        font_family=FONT,
        background="#fff",
        plot_background="#fff",
        foreground="#000",
        foreground_strong="#000",
        foreground_subtle="#555",
        colors=("#4a4a4a", "#999999", "#ffffff"),
        value_colors=("#000", "#000", "#000"),
        label_font_size=label,
        major_label_font_size=label,
        legend_font_size=legend,
        value_font_size=value,
        value_label_font_size=value,
        tooltip_font_size=label,
        title_font_size=legend,
        opacity="1",
        opacity_hover="1",
        transition="none",
    )


def _config(print_mm: float, **options) -> dict:
    return dict(
        style=_style(options["width"], print_mm),
        js=[],
        css=["file://style.css", "file://graph.css", _SERIES_CSS],
        disable_xml_declaration=True,
        print_values=True,
        print_values_position="top",
        show_y_guides=True,
        legend_at_bottom=True,
        legend_box_size=px_for(LEGEND_PT, options["width"], print_mm),
        truncate_label=-1,
        truncate_legend=-1,
        margin=12,
        spacing=10,
        **options,
    )


def _values_after_bars(svg: str) -> str:
    """Horizontal bars: pygal centres each value on the bar's end; start it just after the end."""
    return _VALUE.sub(
        lambda m: f'<text text-anchor="start" x="{float(m[1]) + 5:.2f}"{m[2]} class="value"', svg
    )


def _data_uri(chart, horizontal: bool = False) -> str:
    svg = chart.render(is_unicode=True)
    # an intrinsic size (pygal writes only a viewBox): the page layout then knows the height
    # the chart takes at its printed width, and keeps it on the page it fits
    size = chart.config.width, chart.config.height
    svg = svg.replace("<svg ", f'<svg width="{size[0]}" height="{size[1]}" ', 1)
    if horizontal:
        svg = _values_after_bars(svg)
    # pygal always writes its config as an inline <script> (even with js=[]): drop it, the PDF is static.
    svg = _SCRIPT.sub("", svg)
    svg = svg.replace("<defs>", "<defs>" + _PATTERNS, 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def grouped_bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    width: int = 900,
    height: int = 400,
    print_mm: float = 156,
) -> str:
    """Vertical bars, one group per label and one bar per series (at most three, see above), values
    printed on top of the bars, legend underneath; text sized for ``print_mm`` wide. Returns a
    ``data:image/svg+xml`` URI."""
    chart = pygal.Bar(
        **_config(
            print_mm,
            width=width,
            height=height,
            show_legend=len(series) > 1,
            x_label_rotation=0,
            min_scale=4,
            max_scale=8,
        )
    )
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _data_uri(chart)


def horizontal_bar_chart(
    labels: Sequence[str],
    values: Sequence[int],
    width: int = 640,
    height: int | None = None,
    print_mm: float = 125,
    with_height: bool = False,
):
    """One horizontal bar per label (label on the left, value and share of the total at the bar's
    end, e.g. "812（58.6%）"), solid dark grey, first label on top. Returns a ``data:image/svg+xml``
    URI (with ``with_height``: the URI and the chart's height in px)."""
    rows = max(len(labels), 1)
    top = max([*values, 1])
    total = sum(values)

    def label(value):
        return f"{value:g}（{value / total * 100:.1f}%）" if total else f"{value:g}"

    row_px = px_for(LABEL_PT, width, print_mm) * 2 + 8
    chart = pygal.HorizontalBar(
        **_config(
            print_mm,
            width=width,
            height=height or 60 + row_px * rows,
            show_legend=False,
            range=(0, top * 1.3),
            min_scale=4,
            max_scale=6,
            formatter=label,
        )
    )
    # pygal draws the first x label at the bottom: reverse so the list reads top-down.
    chart.x_labels = list(reversed(labels))
    chart.add("", list(reversed(values)))
    uri = _data_uri(chart, horizontal=True)
    return (uri, chart.config.height) if with_height else uri
