"""Fanout: an evaluation harness for parallel tool calling."""

__version__ = "0.1.0"
