"""System and user prompt templates (jinja2, StrictUndefined) rendered over the task.

The template text is hashed into run.json, so two runs can be compared knowing whether they
used the same prompt; the rendered text goes into each request, so it also keys the cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)

DEFAULT_USER = "{{ prompt }}"


def default_system_source() -> str:
    return (resources.files("evals") / "prompts" / "system.j2").read_text(encoding="utf-8")


@dataclass
class PromptTemplates:
    system_source: str
    user_source: str = DEFAULT_USER
    system_path: str | None = None
    user_path: str | None = None

    def __post_init__(self) -> None:
        try:
            self._system = _ENV.from_string(self.system_source)
            self._user = _ENV.from_string(self.user_source)
        except jinja2.TemplateSyntaxError as exc:
            raise ValueError(f"prompt template syntax error (line {exc.lineno}): {exc.message}") from exc
        self._memo: dict[tuple[str, str], tuple[str, str]] = {}

    @classmethod
    def load(cls, system: str | Path | None = None, user: str | Path | None = None) -> PromptTemplates:
        s = Path(system).read_text(encoding="utf-8") if system else default_system_source()
        u = Path(user).read_text(encoding="utf-8") if user else DEFAULT_USER
        return cls(s, u, str(system) if system else None, str(user) if user else None)

    @property
    def hash(self) -> str:
        h = hashlib.sha256((self.system_source + "\x00" + self.user_source).encode()).hexdigest()
        return h[:16]

    def render(self, task) -> tuple[str, str]:
        """(system text, user text) for a task; raises ValueError naming an undefined variable."""
        key = (task.suite, task.id)
        out = self._memo.get(key)
        if out is None:
            ctx = {
                "prompt": task.prompt,
                "tools": task.tool_specs,
                "pattern": task.pattern,
                "tool_names": [t["name"] for t in task.tool_specs],
            }
            try:
                out = (self._system.render(**ctx).strip(), self._user.render(**ctx).strip())
            except jinja2.UndefinedError as exc:
                raise ValueError(
                    f"prompt template: {exc.message} (available: {', '.join(sorted(ctx))})"
                ) from exc
            self._memo[key] = out
        return out
