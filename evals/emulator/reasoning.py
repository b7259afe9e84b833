"""Reasoning mode: the emulator behaves like a thinking model, so adapters that drop its state fail.

Real reasoning APIs hand out opaque state with each response and require it back: Gemini 3 wants
the `thoughtSignature` of every function-calling step, Claude wants each thinking turn's `thinking`
/ `redacted_thinking` blocks back unmodified (their signatures are checked), and the Responses API
keeps a stateless (`store: false`) model's reasoning only through `reasoning` items with
`encrypted_content` sent back as input. In reasoning mode (`fanout serve --reasoning`,
`EmulatorServer(reasoning=True)`) the emulator emits exactly these, signed with an HMAC keyed by
its seed, and answers a follow-up whose earlier turns lack them, or carry altered ones, with the
400 the real API gives. (The Responses API itself does not fail without the items, it silently
restarts the reasoning; the emulator refuses, so the regression is visible.)

The state is bound to the turn it belongs to: the thinking text names a digest of the turn's
calls, a signature signs it, so moving or editing parts is caught as well as dropping them. The
reasoning text counts as reasoning tokens (`estimate_text`), reported the way each API reports
them, and is added to the completion tokens; prompt and cached tokens do not change, so a run in
reasoning mode scores as the same policy in-process, completion tokens aside.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from ..models.base import ModelResponse, ToolCall
from ..tokens import estimate_text
from .conversation import WireError

DIGEST = re.compile(r"\[turn ([0-9a-f]{16})\]")


def _canon_args(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def calls_digest(calls: list[tuple[Any, Any]]) -> str:
    """Digest of a turn's calls (names and canonical arguments), which its reasoning state names."""
    doc = [[name, _canon_args(args)] for name, args in calls]
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Signer:
    """HMAC signatures and sealed blobs; the key is derived from the server's seed, so the same
    conversation gets the same signatures on every run (and the response cache stays valid)."""

    def __init__(self, seed: int):
        self.key = hashlib.sha256(f"fanout-emulator-reasoning:{seed}".encode()).digest()

    def sign(self, payload: str) -> str:
        mac = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()  # standard base64, as the providers' signatures

    def verify(self, payload: str, signature: Any) -> bool:
        """Signatures are bytes in the proto3 JSON mapping, which accepts standard and URL-safe
        base64 alike (google-genai sends back the URL-safe form): compare the decoded bytes."""
        if not isinstance(signature, str):
            return False
        text = signature.strip().replace("+", "-").replace("/", "_")
        try:
            got = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (ValueError, TypeError):
            return False
        mac = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
        return hmac.compare_digest(mac, got)

    def seal(self, payload: str) -> str:
        doc = json.dumps({"p": payload, "s": self.sign(payload)}, separators=(",", ":"))
        return base64.b64encode(doc.encode()).decode()

    def unseal(self, blob: Any) -> str | None:
        if not isinstance(blob, str):
            return None
        try:
            doc = json.loads(base64.b64decode(blob.encode(), validate=True))
        except (ValueError, TypeError):
            return None
        if not isinstance(doc, dict) or not self.verify(str(doc.get("p")), doc.get("s")):
            return None
        return str(doc["p"])


@dataclass
class Thinking:
    """The reasoning state of one emulated turn."""

    digest: str
    text: str  # the (summarised) thinking; signed
    signature: str
    tokens: int  # reasoning tokens reported for the turn
    redacted: str | None  # a sealed redacted_thinking payload on every other calling turn (Claude)
    gemini_signature: str
    encrypted: str  # Responses encrypted_content


def thinking_for(resp: ModelResponse, signer: Signer, turn: int) -> Thinking:
    calls = [(c.name, c.arguments) for c in resp.tool_calls]
    digest = calls_digest(calls)
    if resp.tool_calls:
        names = ", ".join(c.name for c in resp.tool_calls)
        plan = f"{len(calls)} call(s) are ready ({names}); none waits on another, so I issue them together."
    else:
        plan = "Every result I need is in; I can answer now."
    text = f"[turn {digest}] {plan}"
    return Thinking(
        digest=digest,
        text=text,
        signature=signer.sign(f"thinking:{text}"),
        tokens=estimate_text(text),
        redacted=signer.seal(f"redacted:{digest}") if resp.tool_calls and turn % 2 == 0 else None,
        gemini_signature=signer.sign(f"gemini:{digest}"),
        encrypted=signer.seal(f"responses:{digest}"),
    )


def reject(message: str, param: str | None = None) -> WireError:
    return WireError(400, "invalid_request", message, param)


def check_thinking_block(signer: Signer, block: dict, digest: str, where: str) -> None:
    """A Claude thinking or redacted_thinking block, exactly as the emulator sent it for `digest`."""
    if block.get("type") == "thinking":
        text = block.get("thinking")
        if not isinstance(text, str) or not signer.verify(f"thinking:{text}", block.get("signature")):
            raise reject(f"{where}: Invalid `signature` in `thinking` block")
        m = DIGEST.match(text)
        if m is None or m.group(1) != digest:
            raise reject(f"{where}: this `thinking` block belongs to another turn")
    elif block.get("type") == "redacted_thinking":
        if signer.unseal(block.get("data")) != f"redacted:{digest}":
            raise reject(f"{where}: Invalid `data` in `redacted_thinking` block")


def tool_calls_of(calls: list[ToolCall]) -> list[tuple[Any, Any]]:
    return [(c.name, c.arguments) for c in calls]
