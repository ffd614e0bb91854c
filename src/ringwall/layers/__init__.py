"""One package per layer: its objects, semantics, checks and (later) generator."""
