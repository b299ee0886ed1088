"""Turns the guidance into a searchable index: load, clean, split, embed, upsert."""
