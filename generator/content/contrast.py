"""WCAG 2.1 contrast of a clinic's brand colours, checked before anything is published."""

from __future__ import annotations

from collections.abc import Iterator

AA_TEXT = 4.5
INK = "#1d1d1f"
"""Body text colour of carepress.css."""
WHITE = "#ffffff"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def ratio(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def brand_problems(primary: str, accent: str) -> Iterator[tuple[str, str]]:
    """(field, message) for each pairing the templates use that fails AA for normal text:
    primary headings and links on white and on the accent tint, body text on the tint."""
    pairs = (
        ("colors.primary", primary, WHITE, "on white"),
        ("colors.primary", primary, accent, f"on the accent colour {accent}"),
        ("colors.accent", INK, accent, f"behind body text ({INK})"),
    )
    for field, fore, back, where in pairs:
        value = ratio(fore, back)
        if value < AA_TEXT:
            yield field, (f"{fore if field == 'colors.primary' else back} {where} has contrast "
                          f"{value:.2f}:1; WCAG 2.1 AA needs {AA_TEXT}:1 for text, so patients "
                          "could not read it: choose a darker primary or a lighter accent")
