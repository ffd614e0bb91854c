"""Configuration generation from an intent (``ringwall generate``); see docs/generate.md."""
