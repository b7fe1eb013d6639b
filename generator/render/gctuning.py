"""Garbage collection for a long-lived render process, set once it is warm."""

from __future__ import annotations

import gc

# Young objects collected after this many allocations instead of 700: a render allocates
# millions of short-lived boxes and styles, and at 700 the collector ran thousands of times a
# document, each time walking the survivors (7-15% of a warm render, profiled).
GEN0_THRESHOLD = 50_000


def tune_gc_after_warm_up() -> None:
    """Freeze what the process holds for good (modules, fonts, parsed CSS, the project) so no
    collection walks it again, and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
