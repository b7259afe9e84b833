"""The wire-format emulator: reference policies served over the OpenAI Chat Completions, OpenAI
Responses, Anthropic Messages and Gemini generateContent formats on loopback, with deterministic
fault injection. Tests and the demo use it to exercise the real HTTP path of the provider adapters."""

from .faults import FAULT_KINDS, FaultConfig
from .server import EmulatorServer

__all__ = ["FAULT_KINDS", "EmulatorServer", "FaultConfig"]
