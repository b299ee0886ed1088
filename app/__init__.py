"""Steady: a local-first coaching chatbot for machine-learning engineers who are worn down."""

__version__ = "0.1.0"
