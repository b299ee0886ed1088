"""Steady's configuration: every `STEADY_*` variable, read once per process into one typed object.

pydantic-settings does the reading and the type checks (a port that is not a number, a timeout that is
not a float), so a wrong value is named at start, not found in the middle of a turn. Nothing writes the
environment to configure Steady; a command that needs another value (`steady eval --llm`) passes it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.config import REPO_ROOT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEADY_", extra="ignore", frozen=True)

    data_dir: Path = REPO_ROOT / ".steady"  # the index (when local), the session database (when SQLite), keys
    # A team's deployment (deploy/README.md): PostgreSQL for the conversations, a Chroma server for the index.
    database_url: str = ""
    chroma_url: str = ""
    index_check_seconds: float = 10.0  # how often a worker looks for a newer index on the Chroma server
    llm: str = "none"  # none | openai:<model> | ollama:<model>
    llm_timeout: float = 30.0
    # Sign-in (app/owners.py): users in STEADY_AUTH, or an authenticating proxy's header from trusted addresses.
    auth: str = ""
    trusted_user_header: str = ""
    trusted_proxies: str = "127.0.0.1"
    allowed_hosts: str = ""  # Host names besides loopback and --host (the names a proxy serves Steady under)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @staticmethod
    def listed(value: str) -> frozenset[str]:
        """A comma-separated setting as a set of its non-empty items."""
        return frozenset(item.strip() for item in value.split(",") if item.strip())


@cache
def settings() -> Settings:
    return Settings()
