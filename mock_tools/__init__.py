"""Deterministic mock tools: a seeded world, pure tool implementations, and latency models."""

from .latency import LATENCY_PROFILES, LatencyModel, fixed, lognormal, unit_hash
from .registry import (
    EpisodeState,
    Tool,
    ToolContext,
    ToolError,
    ToolRegistry,
    default_registry,
    error_result,
    is_error,
)
from .table import TableToolSpec, table_tool
from .world import World

__all__ = [
    "LATENCY_PROFILES",
    "EpisodeState",
    "LatencyModel",
    "TableToolSpec",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "World",
    "default_registry",
    "error_result",
    "fixed",
    "is_error",
    "lognormal",
    "table_tool",
    "unit_hash",
]
