"""System and user prompt templates (jinja2, StrictUndefined) rendered over the task.

The rendered prompts are hashed into run.json (`prompt_hash`), so two runs can be compared knowing
whether their models were sent the same prompts; the rendered text goes into each request, so it
also keys the response cache: an edited template misses the cache, an unchanged one hits it.

Variables a template can use: `prompt` (the task's user prompt), `tools` (list of
{name, description, parameters}), `tool_names`, `pattern` (the task's dependency pattern) and
`task_id`. Anything else is an error naming the template file, the line and the variable.

Shipped system prompts are chosen by name (`--system-prompt default|neutral`); any other value is
a template file. `default` tells the model when to call tools in parallel; `neutral` is the same
text without that sentence, so a run under it measures what a model does unprompted
(docs/prompts.md). A file that happens to be called `neutral` is reached as `./neutral`.
"""

from __future__ import annotations

import hashlib
import types
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from .errors import UsageError
from .templating import BoundedOperators, render_bounded

if TYPE_CHECKING:
    from .fixtures import Task

# Sandboxed too: a prompt template can arrive in a pull request that `fanout gate` then runs in CI.
_ENV = BoundedOperators(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)

DEFAULT_USER = "{{ prompt }}"
DEFAULT_SYSTEM_NAME = "<default system.j2>"
DEFAULT_USER_NAME = "<default user template>"
# Shipped system prompts by name -> file in evals/prompts/. `default` is what runs get with no flag.
SHIPPED_SYSTEM = {"default": "system.j2", "neutral": "neutral.j2"}
VARIABLES = ("pattern", "prompt", "task_id", "tool_names", "tools")


class PromptTemplateError(UsageError, ValueError):
    """A template that cannot be read, parsed or rendered; the message names the file."""


def shipped_system_source(name: str) -> str:
    """The source of a shipped system prompt (`default`, `neutral`)."""
    return (resources.files("evals") / "prompts" / SHIPPED_SYSTEM[name]).read_text(encoding="utf-8")


def default_system_source() -> str:
    return shipped_system_source("default")


def system_display_name(system: str | Path | None) -> str:
    """How error messages name a system prompt: the file, or the shipped prompt."""
    if system is None or str(system) == "default":
        return DEFAULT_SYSTEM_NAME
    if str(system) in SHIPPED_SYSTEM:
        return f"<{SHIPPED_SYSTEM[str(system)]}>"
    return str(system)


def read_template(path: str | Path, role: str) -> str:
    p = Path(path)
    if p.is_dir():
        raise PromptTemplateError(f"{role} prompt template {p} is a folder, not a file")
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = ""
        if role == "system" and "/" not in str(path) and "." not in str(path):
            # Looks like a mistyped name rather than a path.
            hint = f" (shipped system prompts by name: {', '.join(SHIPPED_SYSTEM)})"
        raise PromptTemplateError(f"{role} prompt template {p} does not exist{hint}") from None
    except UnicodeDecodeError as exc:
        raise PromptTemplateError(f"{role} prompt template {p} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise PromptTemplateError(f"{role} prompt template {p} cannot be read: {exc.strerror}") from None


def _compile(source: str, name: str) -> jinja2.Template:
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptTemplateError(
            f"{name}, line {exc.lineno}: template syntax error: {exc.message}"
        ) from None


def _template_line(tb: types.TracebackType | None) -> int | None:
    """Line of the template where rendering failed: jinja2 rewrites its frames to '<template>'."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@dataclass
class PromptTemplates:
    system_source: str
    user_source: str = DEFAULT_USER
    system_path: str | None = None
    user_path: str | None = None

    def __post_init__(self) -> None:
        self._system = _compile(self.system_source, self.system_name)
        self._user = _compile(self.user_source, self.user_name)
        self._memo: dict[tuple[str, str], tuple[str, str]] = {}
        self._seen: dict[tuple[str, str], tuple] = {}
        # Sources are compiled once, here: the hash is of what was compiled (asked per episode).
        digest = hashlib.sha256((self.system_source + "\x00" + self.user_source).encode())
        self._source_hash = digest.hexdigest()[:16]

    @property
    def system_name(self) -> str:
        return system_display_name(self.system_path)

    @property
    def user_name(self) -> str:
        return self.user_path or DEFAULT_USER_NAME

    @classmethod
    def load(cls, system: str | Path | None = None, user: str | Path | None = None) -> PromptTemplates:
        """Templates from files or shipped names (None: the shipped defaults); raises
        PromptTemplateError naming the file."""
        if not system:
            s = default_system_source()
        elif isinstance(system, str) and system in SHIPPED_SYSTEM:
            s = shipped_system_source(system)
        else:
            s = read_template(system, "system")
        u = read_template(user, "user") if user else DEFAULT_USER
        return cls(s, u, str(system) if system else None, str(user) if user else None)

    @property
    def source_hash(self) -> str:
        return self._source_hash

    @property
    def hash(self) -> str:
        """Hash of the prompts as rendered for every task rendered so far, or of the template sources
        before any rendering. `start_run` renders each task of a run before reading it, so two runs
        share a hash exactly when their models saw the same prompts (a reworded comment inside a
        `{# #}` block does not change it; a changed word does)."""
        if not self._memo:
            return self.source_hash
        return self.rendered_hash(sorted(self._memo))

    def rendered_hash(self, keys: list[tuple[str, str]]) -> str:
        h = hashlib.sha256()
        for key in keys:
            system, user = self._memo[key]
            for part in (*key, system, user):
                h.update(part.encode())
                h.update(b"\x00")
        return h.hexdigest()[:16]

    def render(self, task: Task) -> tuple[str, str]:
        """(system text, user text) for a task; raises PromptTemplateError naming the template file,
        the line and the undefined variable."""
        key = (task.suite, task.id)
        # What the templates read: two suites may share a name and a task id (two imports of one
        # source) while their prompts differ, so a memo is used only for the same task content.
        seen = (task.prompt, task.pattern, tuple(t["name"] for t in task.tool_specs))
        out = self._memo.get(key) if self._seen.get(key) == seen else None
        if out is None:
            self._seen[key] = seen
            ctx = {
                "prompt": task.prompt,
                "tools": task.tool_specs,
                "pattern": task.pattern,
                "tool_names": [t["name"] for t in task.tool_specs],
                "task_id": task.id,
            }
            out = (
                self._render(self._system, self.system_name, ctx, task.id),
                self._render(self._user, self.user_name, ctx, task.id),
            )
            self._memo[key] = out
        return out

    @staticmethod
    def _render(template: jinja2.Template, name: str, ctx: dict, task_id: str) -> str:
        try:
            return render_bounded(template, ctx).strip()
        except RecursionError:
            raise PromptTemplateError(
                f"{name}: recursion too deep while rendering task {task_id!r} (a macro that calls itself?)"
            ) from None
        except jinja2.UndefinedError as exc:
            line = _template_line(exc.__traceback__)
            where = f"{name}, line {line}" if line else name
            raise PromptTemplateError(
                f"{where}: {exc.message} while rendering task {task_id!r} "
                f"(variables available: {', '.join(VARIABLES)})"
            ) from None
        except jinja2.TemplateError as exc:
            raise PromptTemplateError(f"{name}: {exc} while rendering task {task_id!r}") from None
        except (TypeError, ValueError, LookupError, AttributeError) as exc:
            line = _template_line(exc.__traceback__)
            where = f"{name}, line {line}" if line else name
            raise PromptTemplateError(
                f"{where}: {type(exc).__name__}: {exc} while rendering task {task_id!r}"
            ) from None
