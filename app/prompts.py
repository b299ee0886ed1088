"""Coaching texts and prompts, read from the prompts/ folder (data, not code)."""

from __future__ import annotations

from functools import cache

import yaml

from app.config import PROMPTS_DIR


@cache
def texts(name: str) -> dict:
    """prompts/<name>.yaml as a mapping."""
    return yaml.safe_load((PROMPTS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


@cache
def template(name: str) -> str:
    """prompts/<name>.md, a prompt template with {placeholders}."""
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")
