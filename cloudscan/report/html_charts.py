"""Small horizontal bar charts as inline SVG: a label, a bar and its number on each row. The
chart's title and description name every value, so a screen reader says what the bars show."""

from __future__ import annotations

from cloudscan.report.escape import html_text

ROW = 24
LABEL_WIDTH = 160
BAR_WIDTH = 240
VALUE_WIDTH = 56
MAX_LABEL = 22


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, int, str]]) -> str:
    """`bars` are (label, value, CSS class of the row); labels may come from input (a custom
    policy's category) and are escaped here. Bars are scaled to the largest value."""
    if not bars:
        return f'<p class="none">{html_text(title)}: none.</p>'
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = len(bars) * ROW + 4
    top = max(value for _, value, _ in bars) or 1
    description = "; ".join(f"{label}: {value}" for label, value, _ in bars)
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{html_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{html_text(description)}</desc>',
    ]
    for index, (label, value, css) in enumerate(bars):
        top_y = index * ROW + 2
        length = round(BAR_WIDTH * value / top) if value else 0
        parts.append(
            f'<g class="{html_text(css)}" data-label="{html_text(label)}" data-value="{value}">'
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{top_y + 16}">{html_text(label, MAX_LABEL)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{top_y + 4}" width="{max(length, 2 if value else 0)}" '
            f'height="{ROW - 8}" rx="2"></rect>'
            f'<text class="value" x="{LABEL_WIDTH + length + 6}" y="{top_y + 16}">{value}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
