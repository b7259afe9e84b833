"""`policy/prompt-sensitive`: a demo reference model whose behaviour follows its system prompt.

It exists so the CI gate can be shown end to end with no API key: a prompt edit must be able to
make a model worse, and with the plain reference policies it cannot. It reads the system message
of each request and then behaves exactly like one of the reference policies:

- the system prompt asks for one tool call at a time (any phrase in SEQUENTIAL_PHRASES)
  -> `sequential` (one ready node per turn: fan-out recall collapses, wall-clock grows);
- the system prompt asks to verify by re-fetching (any phrase in REDUNDANT_PHRASES)
  -> `redundant` (oracle plus a duplicate read per turn and a distractor call);
- otherwise -> `oracle`.

Phrases are matched case-insensitively with whitespace collapsed. Like every policy it reads the
ground truth, so it is a calibration and demo device, not a model of any real LLM.
"""

from __future__ import annotations

from ..fixtures import Suite
from .base import Message, Model, ModelRequest, ModelResponse
from .policies import PolicyModel

NAME = "prompt-sensitive"
SEQUENTIAL_PHRASES = ("one tool call at a time", "one call at a time", "one tool at a time")
REDUNDANT_PHRASES = ("verify by re-fetching", "verify by refetching", "re-fetch to verify")


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def policy_for(system_prompt: str | None) -> str:
    """The reference policy this model imitates under a system prompt."""
    text = _norm(system_prompt or "")
    if any(p in text for p in SEQUENTIAL_PHRASES):
        return "sequential"
    if any(p in text for p in REDUNDANT_PHRASES):
        return "redundant"
    return "oracle"


class PromptSensitiveModel(Model):
    remote = False

    def __init__(self, suites: list[Suite], seed: int = 0):
        self.name = f"policy/{NAME}"
        self.seed = seed
        self._delegates = {
            p: PolicyModel(p, suites, seed=seed) for p in ("oracle", "sequential", "redundant")
        }

    def describe(self) -> dict:
        return {"name": self.name, "policy": NAME, "seed": self.seed}

    def respond(self, messages: list[Message]) -> ModelResponse:
        system = next((m.content for m in messages if m.role == "system"), None)
        return self._delegates[policy_for(system)].respond(messages)

    async def generate(self, request: ModelRequest) -> ModelResponse:
        return self.respond(request.messages)
