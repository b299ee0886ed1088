"""The labelled crisis/health message set and its scoring (see metrics.py)."""
