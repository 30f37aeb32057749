"""What the catalogue tells the layers above it without knowing them (blinker signals)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by the import with `dataset_ids`, the datasets whose themes it has just written again.
dataset_themes_changed = _signals.signal("dataset-themes-changed")
