"""Reference policies: models that read the ground truth and behave in known ways.

They calibrate the scorer (each has known expected scores) and drive the demo and the emulator.
A policy is stateless: it identifies the task from the user message and rebuilds what it knows
from the conversation, exactly as an HTTP-served copy of it must.

- oracle: every ready node each turn, then the answer.
- sequential: one ready node per turn (in topological order).
- greedy: every unsatisfied node each turn; not-yet-resolvable arguments get placeholders.
- redundant: oracle plus a duplicate read each turn and a distractor call on the first turn.
- lazy: oracle that never issues the last required node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mock_tools import is_error

from ..fixtures import Suite, Task
from ..groundtruth import GroundTruth, ground_truth
from ..templating import TemplateError, compile_value, refs_in
from .base import Message, Model, ModelRequest, ModelResponse, ToolCall

POLICIES = ("oracle", "sequential", "greedy", "redundant", "lazy")
PLACEHOLDER = "<pending>"


class UnknownTaskError(LookupError):
    pass


@dataclass
class _ArgPlan:
    """Per argument, its sources in order: the fixture's reference, then each alternative's."""

    options: dict[str, list[tuple[set[str], Any]]]


_GRAM = 8  # characters of the pieces of prompts the index files them under


class TaskIndex:
    """Finds the task a conversation is about, from its first user message.

    A user-prompt template may wrap the task prompt, so the task is the one whose prompt is the
    longest the message contains (the first declared among equal ones). Each prompt is filed under
    its rarest piece of `_GRAM` characters (prompts of one suite often share their openings), so a
    message is searched by looking up each of its pieces instead of testing every prompt of the
    suite: finding every task of a big suite is linear in the suite, not quadratic."""

    def __init__(self, suites: list[Suite]):
        self.by_prompt: dict[str, Task] = {}
        for s in suites:
            for t in s.tasks:
                self.by_prompt[_norm(t.prompt)] = t
        self._memo: dict[str, Task] = {}
        self._order: dict[str, int] = {}
        self._by_gram: dict[str, list[str]] | None = None  # built on the first wrapped message
        self._short: list[str] = []  # prompts shorter than a piece

    def _index(self) -> dict[str, list[str]]:
        counts: dict[str, int] = {}
        for p in self.by_prompt:
            for g in {p[i : i + _GRAM] for i in range(len(p) - _GRAM + 1)}:
                counts[g] = counts.get(g, 0) + 1
        by_gram: dict[str, list[str]] = {}
        for n, p in enumerate(self.by_prompt):
            self._order[p] = n
            if len(p) < _GRAM:
                self._short.append(p)
                continue
            rarest = min((p[i : i + _GRAM] for i in range(len(p) - _GRAM + 1)), key=counts.__getitem__)
            by_gram.setdefault(rarest, []).append(p)
        return by_gram

    def contained(self, text: str) -> list[str]:
        """The prompts `text` contains."""
        grams = self._by_gram
        if grams is None:
            grams = self._by_gram = self._index()
        out = [p for p in self._short if p in text]
        seen: set[str] = set()
        for i in range(len(text) - _GRAM + 1):
            for p in grams.get(text[i : i + _GRAM], ()):
                if p not in seen:
                    seen.add(p)
                    if p in text:
                        out.append(p)
        return out

    def find(self, messages: list[Message]) -> Task:
        user = next((m.content for m in messages if m.role == "user" and m.content), None)
        if user is None:
            raise UnknownTaskError("conversation has no user message")
        key = _norm(user)
        t = self.by_prompt.get(key) or self._memo.get(key)
        if t is None:
            found = self.contained(key)
            if not found:
                raise UnknownTaskError(f"no task matches the user message {user[:80]!r}")
            order = self._order
            best = max(found, key=lambda p: (len(p), -order[p]))
            t = self._memo[key] = self.by_prompt[best]
        return t


_RESPONSES = 4096


def _conversation_key(messages: list[Message]) -> tuple | None:
    """Everything a policy reads of a conversation, as a key (None: arguments sent as objects).
    Each message's part is kept on the message (a conversation grows by appending)."""
    out = []
    for m in messages:
        k = m.policy_key
        if k is None:
            calls = tuple((c.id, c.name, c.arguments) for c in m.tool_calls)
            for c in calls:
                if not isinstance(c[2], str):
                    return None
            k = m.policy_key = (m.role, m.content, m.tool_call_id, m.name, calls)
        out.append(k)
    return tuple(out)


def _norm(s: str) -> str:
    return " ".join(s.split())


def parse_args(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def decode_result(content: str | None) -> Any:
    """A tool message's result as a policy reads it."""
    try:
        return json.loads(content or "null")
    except ValueError:
        return {"error": {"code": "unparseable"}}


class Decoded:
    """JSON texts decoded once: a policy rebuilds what it knows from the whole conversation at
    every turn, and the same tool results and arguments come back turn after turn and epoch after
    epoch. A decoded value is only read, never modified, so it is shared. At most `limit` texts
    are kept (then the memo starts again)."""

    def __init__(self, limit: int = 4096):
        self.limit = limit
        self._results: dict[str | None, Any] = {}
        self._args: dict[str, Any] = {}

    def result(self, content: str | None) -> Any:
        memo = self._results
        if content in memo:
            return memo[content]
        if len(memo) >= self.limit:
            memo.clear()
        v = memo[content] = decode_result(content)
        return v

    def args(self, raw: Any) -> Any:
        if not isinstance(raw, str):
            return parse_args(raw)
        memo = self._args
        if raw in memo:
            return memo[raw]
        if len(memo) >= self.limit:
            memo.clear()
        v = memo[raw] = parse_args(raw)
        return v


class Observation:
    """What the conversation so far tells a policy: satisfied nodes, their outputs, batches issued."""

    def __init__(self, gt: GroundTruth, messages: list[Message], decoded: Decoded | None = None):
        decoded = decoded or Decoded()
        results: dict[str, Any] = {}
        for m in messages:
            if m.role == "tool" and m.tool_call_id is not None:
                results[m.tool_call_id] = decoded.result(m.content)
        self.batches = [m.tool_calls for m in messages if m.role == "assistant" and m.tool_calls]
        self.sat: dict[str, int] = {}
        self.outputs: dict[str, Any] = {}
        for b, calls in enumerate(self.batches, start=1):
            newly: dict[str, Any] = {}
            for c in calls:
                res = results.get(c.id)
                if res is None or is_error(res):
                    continue
                args = decoded.args(c.arguments)
                for v in gt.by_tool.get(c.name, ()):
                    if v in self.sat or v in newly:
                        continue
                    node = gt.nodes[v]
                    ready = any(all(self.sat.get(u, b) < b for u in r) for r in node.routes)
                    if ready and node.matcher.matches(args):
                        newly[v] = res
                        break
            for v, res in newly.items():
                self.sat[v] = b
                self.outputs[v] = res
        self.turn = len(self.batches) + 1


class PolicyModel(Model):
    remote = False

    def __init__(self, policy: str, suites: list[Suite], seed: int = 0):
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
        self.policy = policy
        self.name = f"policy/{policy}"
        self.seed = seed
        self.index = TaskIndex(suites)
        self._plans: dict[tuple[str, str], _ArgPlan] = {}
        self._decoded = Decoded()
        self._responses: dict[tuple, tuple[str | None, tuple[ToolCall, ...], str | None]] = {}

    def describe(self) -> dict:
        return {"name": self.name, "policy": self.policy, "seed": self.seed}

    # -- decision ------------------------------------------------------------------------
    async def generate(self, request: ModelRequest) -> ModelResponse:
        return self.respond(request.messages)

    def respond(self, messages: list[Message]) -> ModelResponse:
        """The policy's response to the conversation. A policy is a pure function of the
        conversation, so a conversation it has answered before (another epoch, another run of the
        same process) gets the same response again without deciding anew; each caller gets its
        own copy. At most `_RESPONSES` conversations are kept (then the memo starts again)."""
        key = _conversation_key(messages)
        hit = None if key is None else self._responses.get(key)
        if hit is None:
            r = self._decide(messages)
            hit = (r.text, tuple(r.tool_calls), r.finish_reason)  # all a policy's response holds
            if key is not None:
                if len(self._responses) >= _RESPONSES:
                    self._responses.clear()
                self._responses[key] = hit
        text, calls, finish = hit
        return ModelResponse(text=text, tool_calls=list(calls), finish_reason=finish)

    def _decide(self, messages: list[Message]) -> ModelResponse:
        task = self.index.find(messages)
        gt = ground_truth(task, self.seed)
        obs = Observation(gt, messages, self._decoded)
        # The calls of the ideal route (DESIGN 4.2): with no alternatives, every required node.
        plan = gt.ideal
        skip = {plan.required[-1]} if self.policy == "lazy" and plan.required else set()
        pending = [v for v in plan.required if v not in obs.sat and v not in skip]
        ready = [v for v in pending if plan.deps[v] <= obs.sat.keys()]
        calls: list[tuple[str, dict]] = []
        if self.policy in ("oracle", "lazy", "redundant"):
            calls = [(gt.nodes[v].tool, self._args(task, gt, v, obs, False)) for v in ready]
        elif self.policy == "sequential":
            calls = [(gt.nodes[v].tool, self._args(task, gt, v, obs, False)) for v in ready[:1]]
        elif self.policy == "greedy":
            calls = [(gt.nodes[v].tool, self._args(task, gt, v, obs, v not in ready)) for v in pending]
        if self.policy == "redundant" and calls:
            # Duplicate a read whose tool no later node uses, so the copy is a pure duplicate
            # (a call to a tool with a not-yet-ready node would be classed premature first).
            later = {gt.nodes[v].tool for v in pending if v not in ready}
            reads = [c for c in calls if not task.tool_by_name[c[0]].write and c[0] not in later]
            if reads:
                calls.append(reads[0])
            if obs.turn == 1:
                d = self._distractor(task, gt)
                if d:
                    calls.append(d)
        if not calls:
            return ModelResponse(text=self._answer(task, gt, obs), finish_reason="stop")
        tcs = [
            ToolCall(id=f"call_{obs.turn}_{i}", name=n, arguments=json.dumps(a))
            for i, (n, a) in enumerate(calls)
        ]
        return ModelResponse(text=None, tool_calls=tcs, finish_reason="tool_calls")

    def _plan(self, task: Task, v: str) -> _ArgPlan:
        key = (task.suite + "/" + task.id, v)
        plan = self._plans.get(key)
        if plan is None:
            node = task.node_by_id[v]
            options: dict[str, list[tuple[set[str], Any]]] = {}
            for k, x in node.spec.args.items():
                options[k] = [(refs_in(x), compile_value(x))]
                for alt in node.spec.alternatives:
                    if k in alt:
                        options[k].append((refs_in(alt[k]), compile_value(alt[k])))
            plan = self._plans[key] = _ArgPlan(options)
        return plan

    def _args(self, task: Task, gt: GroundTruth, v: str, obs: Observation, placeholders: bool) -> dict:
        """Arguments as the policy would write them: rendered from the outputs it has seen (for a
        ready node that is exactly the ground truth); `placeholders` for what it cannot know yet."""
        if not placeholders:
            if not gt.nodes[v].deps:
                return gt.nodes[v].args
            try:
                return task.node_by_id[v].args_fn(obs.outputs)
            except TemplateError:
                pass  # a source of another route: render argument by argument
        plan = self._plan(task, v)
        out = {}
        for k, options in plan.options.items():
            out[k] = PLACEHOLDER
            for refs, fn in options:
                if refs <= obs.outputs.keys():
                    try:
                        out[k] = fn(obs.outputs)
                        break
                    except TemplateError:
                        pass
        return out

    def _distractor(self, task: Task, gt: GroundTruth) -> tuple[str, dict] | None:
        used = {n.tool for n in gt.nodes.values()}
        for t in task.tools:
            if t.name not in used and not t.write:
                args = {}
                for k in t.parameters.get("required", []):
                    typ = t.parameters["properties"].get(k, {}).get("type")
                    args[k] = 1 if typ in ("integer", "number") else "example"
                return t.name, args
        return None

    def _answer(self, task: Task, gt: GroundTruth, obs: Observation) -> str:
        """The answer's values rendered from what the policy saw. A value read from calls the
        policy's route skipped (an answer route: a rate times each price instead of converting each
        price) is the ground truth's, once every call of its plan is back."""
        done = all(v in obs.sat for v in gt.ideal.required)
        parts = []
        for i, fn in enumerate(task.answer_fns):
            try:
                parts.append(str(_clean(fn(obs.outputs))))
            except TemplateError:
                if done:
                    parts.append(str(gt.answer_contains[i]))
        for g, group in enumerate(task.answer_any_fns):
            for j, fn in enumerate(group):
                try:
                    parts.append(str(_clean(fn(obs.outputs))))
                    break
                except TemplateError:
                    if done:
                        parts.append(str(gt.answer_any[g][j]))
                        break
        if not parts:
            return "Done: everything you asked for is taken care of."
        return "Here is what I found: " + "; ".join(parts) + "."


def _clean(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v
