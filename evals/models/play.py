"""`play/<player>`: a person, or an agent, plays the model (`fanout play TASK`).

The player is a `Model` like any provider, so a played episode goes through the same runtime,
mock tools, scoring and run folder as `fanout run`: nothing here decides a score. Each turn the
adapter shows what a provider request would carry that the player has not seen yet (the system
prompt, the user prompt and the tools on the first turn; the tool results after that, as the
exact `tool` message contents), then reads one response from a `ResponseSource`.

A response is one of (docs/play.md):
- tool calls as JSON: a list `[{"name": ..., "arguments": {...}}, ...]` (one parallel batch), a
  single call object, or `{"tool_calls": [...], "content": "optional text"}`. `arguments` may be
  an object or, as providers send it, a JSON string (which is then passed on untouched, even
  when it is invalid: that is the model's mistake to be scored, not the player's to retype);
  OpenAI's `{"type": "function", "function": {...}}` wrapper is accepted too;
- a final answer: a line starting `answer:`, or `{"answer": "..."}` (for multi-line answers).

Two sources: `InteractiveSource` (a terminal or a pipe: bad input is explained and re-asked) and
`FileSource` (`--responses FILE`: parsed in full before the episode starts, so bad input is one
error naming the line and nothing runs; when the file runs out before an answer, the episode
stops where it is, so an agent can play step by step by appending one response and re-running).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from .base import Message, Model, ModelError, ModelRequest, ModelResponse, ToolCall

RESPONSE_HELP = """\
Respond with one of:
  tool calls (JSON; several calls in one response run concurrently, as one parallel batch):
    [{"name": "TOOL", "arguments": {"ARG": "VALUE"}}, {"name": "OTHER_TOOL", "arguments": {}}]
  a final answer (ends the episode):
    answer: YOUR ANSWER TO THE USER
A JSON response may span several lines. Commands: help, show (print the conversation again), quit."""


class ResponseFormatError(UsageError, ValueError):
    """A response that is neither tool calls nor an answer; the message is one line."""


class PlayStopped(ModelError):
    """The player stopped before a final answer (end of input, `quit`, or a responses file that
    ran out). The episode is not scored and no run folder is kept. `quit` is the player's own
    stop, as Ctrl-C is (exit 130); input that ended leaves the episode unfinished (exit 2), as a
    responses file that runs out does when an agent plays step by step."""

    def __init__(self, message: str, turn: int, reason: str):
        super().__init__(message)
        self.turn, self.reason = turn, reason
        self.exit_code = EXIT_INTERRUPTED if reason == "quit" else EXIT_USAGE


class PlayCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str | None = None


class PlayResponse(BaseModel):
    """One parsed response: tool calls (with optional text) or a final answer."""

    model_config = ConfigDict(extra="forbid")

    tool_calls: list[PlayCall] = Field(default_factory=list)
    content: str | None = None
    answer: str | None = None
    source: str = Field(default="", exclude=True)  # the response as typed, for the transcript


def _unwrap(call: Any) -> Any:
    """OpenAI's `{"type": "function", "function": {"name", "arguments"}}` -> a plain call."""
    if isinstance(call, dict) and isinstance(call.get("function"), dict):
        inner = dict(call["function"])
        if "id" in call:
            inner.setdefault("id", call["id"])
        extra = set(call) - {"type", "function", "id"}
        if extra:
            inner.update({k: call[k] for k in extra})  # reported as unknown fields below
        return inner
    return call


def _validation_message(exc: ValidationError, what: str) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"])
    if err["type"] == "extra_forbidden":
        return (
            f"{what}: unknown field {where!r} (a call has name, arguments and an optional id; "
            "a response object has tool_calls and content, or answer)"
        )
    if err["type"] == "missing":
        return f"{what}: missing field {where!r}"
    if err["loc"][:1] == ("arguments",):  # neither branch of `dict | str`: say it once, plainly
        return (
            f"{what}: arguments must be a JSON object, or a JSON string holding one (as providers "
            f"send it), not a JSON {_json_type(err['input'])}"
        )
    return f"{what}: {where}: {err['msg']}"


def _calls(raw: list) -> list[PlayCall]:
    out = []
    for i, c in enumerate(raw, start=1):
        c = _unwrap(c)
        if not isinstance(c, dict):
            raise ResponseFormatError(f"call {i} is a JSON {_json_type(c)}, not an object")
        try:
            out.append(PlayCall.model_validate(c))
        except ValidationError as exc:
            raise ResponseFormatError(_validation_message(exc, f"call {i}")) from None
    return out


def _json_type(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(v), "number"
    )


def parse_response(text: str) -> PlayResponse:
    """Parse one response; raises ResponseFormatError with a one-line reason."""
    s = text.strip()
    if not s:
        raise ResponseFormatError("empty response")
    if s[:7].casefold() == "answer:":
        return PlayResponse(answer=s[7:].strip(), source=s)
    if s[0] not in "[{":
        raise ResponseFormatError(
            "a response is tool calls as JSON (starting with [ or {) or a final answer starting with 'answer:'"
        )
    try:
        val = json.loads(s)
    except json.JSONDecodeError as exc:
        raise ResponseFormatError(
            f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if isinstance(val, list):
        resp = PlayResponse(tool_calls=_calls(val))
    elif isinstance(val, dict) and ("tool_calls" in val or "answer" in val or "content" in val):
        if not isinstance(val.get("tool_calls", []), list):
            raise ResponseFormatError("tool_calls must be a JSON array of calls")
        body = dict(val)
        calls = _calls(body.pop("tool_calls", []))
        try:
            resp = PlayResponse.model_validate({**body, "tool_calls": []})
        except ValidationError as exc:
            raise ResponseFormatError(_validation_message(exc, "response")) from None
        resp.tool_calls = calls
        if resp.answer is not None and calls:
            raise ResponseFormatError("a response holds tool calls or an answer, not both")
    elif isinstance(val, dict):
        resp = PlayResponse(tool_calls=_calls([val]))
    else:
        raise ResponseFormatError(f"a response is a JSON array or object, not a {_json_type(val)}")
    if resp.answer is None and not resp.tool_calls:
        raise ResponseFormatError("no tool calls: to finish, reply with a line starting 'answer:'")
    resp.source = s
    return resp


def json_incomplete(text: str) -> bool:
    """True while a JSON response is only unfinished (the parser ran out of input), so a reader
    keeps reading lines: a pretty-printed response may span many lines. A definite error (one
    before the end of the text) is not incomplete: it is reported at once."""
    t = text.rstrip()
    try:
        json.loads(t)
    except json.JSONDecodeError as exc:
        return exc.pos >= len(t) or exc.msg.startswith("Unterminated string")
    return False


class ResponseSource(Protocol):
    def next_response(self, turn: int) -> PlayResponse: ...


@dataclass
class FileSource:
    """`--responses FILE` (or `-` for stdin): every response parsed before the episode starts.

    One response per line (JSON lines), except that a JSON response may continue over the
    following lines until its brackets close; blank lines and lines starting `#` are skipped."""

    label: str
    responses: list[PlayResponse] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # first line of each response
    used: int = 0

    @classmethod
    def read(cls, path: str) -> FileSource:
        """Raises ResponseFormatError naming the file and line."""
        if path == "-":
            text, label = sys.stdin.read(), "<stdin>"
        else:
            p = Path(path)
            try:
                text = p.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise ResponseFormatError(f"{path}: no such file") from None
            except IsADirectoryError:
                raise ResponseFormatError(f"{path} is a folder, not a file") from None
            except UnicodeDecodeError as exc:
                raise ResponseFormatError(f"{path} is not UTF-8 text ({exc.reason})") from None
            except OSError as exc:
                raise ResponseFormatError(f"{path} cannot be read: {exc.strerror}") from None
            label = path
        src = cls(label)
        pending: list[str] = []
        start = 0
        for n, line in enumerate(text.splitlines(), start=1):
            if not pending:
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                start = n
            pending.append(line)
            chunk = "\n".join(pending)
            if chunk.lstrip()[:1] in "[{" and json_incomplete(chunk):
                continue
            pending = []
            try:
                resp = parse_response(chunk)
            except ResponseFormatError as exc:
                raise ResponseFormatError(f"{label}, {_relocate(str(exc), start)}") from None
            src.responses.append(resp)
            src.lines.append(start)
        if pending:
            raise ResponseFormatError(
                f"{label}, line {start}: the JSON response starting here is not closed before the end of the file"
            )
        return src  # an empty file is the first step of playing turn by turn: it shows turn 1

    def next_response(self, turn: int) -> PlayResponse:
        if self.used >= len(self.responses):
            n = len(self.responses)
            raise PlayStopped(
                f"{self.label} holds {n} response{'s' if n != 1 else ''} and the episode needs "
                f"response {n + 1} (turn {turn}): append it and run again",
                turn,
                "exhausted",
            )
        resp = self.responses[self.used]
        self.used += 1
        return resp

    @property
    def unused(self) -> int:
        return len(self.responses) - self.used


def _relocate(msg: str, start: int) -> str:
    """`line N: msg` for a response starting at line `start`; a JSON error's position inside a
    multi-line response becomes the file's `line N, column C`."""
    m = re.search(r" \(line (\d+), column (\d+)\)$", msg)
    if not m:
        return f"line {start}: {msg}"
    return f"line {start + int(m.group(1)) - 1}, column {m.group(2)}: {msg[: m.start()]}"


@dataclass
class InteractiveSource:
    """A terminal or a pipe: a response that cannot be parsed is explained and asked again.
    Input read from a pipe is echoed, so the transcript reads like a terminal session."""

    stdin: TextIO
    out: TextIO
    replay: Any = None  # callable printing the conversation so far (`show`)

    def _readline(self, prompt: str) -> str | None:
        self.out.write(prompt)
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            self.out.write("\n")
            return None
        if not self.stdin.isatty():
            self.out.write(line if line.endswith("\n") else line + "\n")
        return line.rstrip("\n")

    def next_response(self, turn: int) -> PlayResponse:
        while True:
            line = self._readline(f"turn {turn}> ")
            if line is None:
                raise PlayStopped(f"input ended before a final answer (turn {turn})", turn, "eof")
            cmd = line.strip()
            if not cmd:
                continue
            if cmd.casefold() in ("help", "?"):
                self.out.write(RESPONSE_HELP + "\n")
                continue
            if cmd.casefold() == "show":
                if self.replay is not None:
                    self.replay()
                continue
            if cmd.casefold() in ("quit", "exit"):
                raise PlayStopped(f"quit at turn {turn}", turn, "quit")
            chunk = line
            while cmd[:1] in "[{" and json_incomplete(chunk):
                more = self._readline("...> ")
                if more is None or not more.strip():
                    break  # parse what there is: the error says what is missing
                chunk += "\n" + more
            try:
                return parse_response(chunk)
            except ResponseFormatError as exc:
                self.out.write(f"error: {exc}; try again (type help for the format)\n")


def _section(title: str) -> str:
    return f"\n== {title} ==\n"


class PlayModel(Model):
    """The player as a model. It never scores and never looks at the ground truth."""

    remote = False

    def __init__(self, source: ResponseSource, out: TextIO, player: str = "human", intro: bool = True):
        self.name = f"play/{player}"
        self.player = player
        self.source = source
        self.out = out
        self.intro = intro  # print the response format once, before the first turn
        self.turn = 0
        self.stopped: PlayStopped | None = None
        self._shown = 0
        self._transcript: list[str] = []

    def describe(self) -> dict:
        return {"name": self.name, "player": self.player}

    def _emit(self, text: str) -> None:
        self._transcript.append(text)
        self.out.write(text)

    def replay_transcript(self) -> None:
        self.out.write("".join(self._transcript))

    def _show(self, request: ModelRequest) -> None:
        """What the request carries that the player has not seen yet, exactly as carried."""
        new = request.messages[self._shown :]
        self._shown = len(request.messages)
        results: list[Message] = []
        for m in new:
            if m.role == "system":
                self._emit(_section("system prompt") + (m.content or "") + "\n")
            elif m.role == "user":
                self._emit(_section("user prompt") + (m.content or "") + "\n")
                self._emit(
                    _section(f"tools ({len(request.tools)}), as the request carries them")
                    + json.dumps(request.tools, indent=2, ensure_ascii=False)
                    + "\n"
                )
            elif m.role == "tool":
                results.append(m)
        if results:
            self._emit(_section(f"tool results of turn {self.turn}"))
            for m in results:
                self._emit(f"[{m.tool_call_id}] {m.name}: {m.content}\n")
        if self.turn == 0 and self.intro:
            self._emit(_section("how to respond") + RESPONSE_HELP + "\n")

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self._show(request)
        self.turn += 1
        self._emit(_section(f"turn {self.turn}"))
        try:
            resp = self.source.next_response(self.turn)
        except PlayStopped as exc:
            self.stopped = exc
            raise
        if isinstance(self.source, FileSource):
            self._emit(f"turn {self.turn}> {resp.source}\n")
        else:
            self._transcript.append(f"turn {self.turn}> {resp.source}\n")
        if resp.answer is not None:
            return ModelResponse(text=resp.answer, finish_reason="stop")
        calls = [
            ToolCall(
                c.id or f"call_{self.turn}_{i}",
                c.name,
                c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments, ensure_ascii=False),
            )
            for i, c in enumerate(resp.tool_calls)
        ]
        return ModelResponse(text=resp.content, tool_calls=calls, finish_reason="tool_calls")
