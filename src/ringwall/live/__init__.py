"""Live sources: read a running cluster and running hosts (read-only), snapshot them, watch for drift.

``source.LiveOptions`` says what to read; ``estate.load_live_estate`` builds the same ``Estate`` a
folder of files gives; ``snapshot.write_snapshot`` stores a read for offline use; ``watch`` compares
reads. See docs/live.md.
"""
