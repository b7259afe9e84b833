"""What an `agent/<name>` candidate is: the command Fanout starts per episode, and how it answers.

An agent is described by a small TOML file:

    command = ["{python}", "{dir}/serial.py"]   # argv (a string is split like a shell would)
    timeout = 120                               # seconds per episode, startup included
    output = "stdout"                           # or "file" (Fanout passes FANOUT_OUTPUT_FILE)
    transport = "http"                          # MCP tools over streamable HTTP, or "stdio"
    model = "policy/oracle"                     # what the model proxy serves (or a provider model)
    concurrency = 1                             # episodes run at once (1 keeps timings clean)
    packages = ["openai"]                       # distributions whose versions run.json records
    [env]
    MY_SETTING = "1"

`{python}` is the interpreter running Fanout and `{dir}` the TOML file's folder, so a config
works from any working directory. `agent/<name>` finds `<name>.toml` in $FANOUT_AGENTS_PATH,
./agents, ./examples/agents and the reference agents of this checkout; a name ending in `.toml`
is a path. `agent/<name>@<model>` overrides `model` for one run (e.g. `agent/serial@policy/greedy`).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "examples" / "agents"


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    command: list[str] = Field(min_length=1)
    cwd: str | None = None  # working directory of the agent; default: where fanout runs
    env: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=300.0, gt=0)
    output: Literal["stdout", "file"] = "stdout"
    transport: Literal["http", "stdio"] = "http"
    model: str = "policy/oracle"
    concurrency: int = Field(default=1, ge=1, le=64)
    packages: list[str] = Field(default_factory=list)
    description: str = ""
    path: str | None = None  # the TOML file it came from (set by the loader)
    digest: str | None = None  # sha256 of that file, so run.json pins what ran

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return shlex.split(v)
        return v

    def argv(self) -> list[str]:
        """The command with `{python}` and `{dir}` expanded."""
        folder = str(Path(self.path).parent) if self.path else os.getcwd()
        return [a.replace("{python}", sys.executable).replace("{dir}", folder) for a in self.command]

    def versions(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for p in self.packages:
            try:
                out[p] = metadata.version(p)
            except metadata.PackageNotFoundError:
                out[p] = None
        return out


def search_path() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("FANOUT_AGENTS_PATH", "").split(os.pathsep) if p]
    return [*dirs, Path("agents"), Path("examples/agents"), REFERENCE_DIR]


def find_config(name: str) -> Path:
    """The TOML file an `agent/<name>` refers to. Raises ValueError naming where it looked."""
    if name.endswith(".toml"):
        p = Path(name)
        if not p.is_file():
            raise ValueError(f"agent config {name!r} does not exist")
        return p
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"agent name {name!r} must be a plain name or a path ending in .toml")
    looked = []
    for d in search_path():
        p = d / f"{name}.toml"
        if p.is_file():
            return p
        looked.append(str(d))
    raise ValueError(f"no agent config {name}.toml in {', '.join(dict.fromkeys(looked))}")


def load_config(path: Path) -> AgentConfig:
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"agent config {path}: {exc}") from None
    data.setdefault("name", path.stem)
    try:
        cfg = AgentConfig.model_validate(data)
    except ValidationError as exc:
        errs = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"agent config {path}: {errs}") from None
    cfg.path = str(path.resolve())
    cfg.digest = hashlib.sha256(raw).hexdigest()[:16]
    return cfg


def parse_agent_spec(name: str) -> tuple[str, str | None]:
    """`openai-agents@policy/greedy` -> ("openai-agents", "policy/greedy")."""
    agent, sep, model = name.partition("@")
    if sep and not model:
        raise ValueError(f"agent/{name}: nothing after '@' (expected a model such as policy/oracle)")
    return agent, (model or None)


def resolve(name: str) -> AgentConfig:
    agent, model = parse_agent_spec(name)
    cfg = load_config(find_config(agent))
    if model:
        cfg.model = model
    if cfg.model.startswith("agent/"):
        raise ValueError(f"agent/{name}: the model behind an agent cannot be another agent")
    return cfg
