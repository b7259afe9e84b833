"""The two loopback servers an agent run needs, in the run's own event loop: the model proxy and
the MCP tools server. One pair serves every episode of a run; an episode is addressed by a random
token in the path (`/e/<token>/...`), so concurrent episodes never see each other's turns, calls
or state."""

from __future__ import annotations

import secrets
from typing import Literal

from ..fixtures import Task
from ..models.base import Model
from ..settings import RuntimeSettings
from .mcp_server import ToolsHTTP
from .proxy import ModelProxy
from .session import EpisodeSession


class AgentHost:
    def __init__(self, backend: Model, host: str = "127.0.0.1", tools_port: int = 0, model_port: int = 0):
        self.sessions: dict[str, EpisodeSession] = {}
        self.proxy = ModelProxy(backend, self.sessions, host, model_port)
        self.tools = ToolsHTTP(host, tools_port)
        self.started = False
        self.unbound: Literal["model proxy", "tools"] | None = None  # whose port start() could not bind

    async def start(self) -> AgentHost:
        try:
            await self.proxy.start()
        except OSError:
            self.unbound = "model proxy"
            raise
        try:
            await self.tools.start()
        except BaseException as exc:
            await self.proxy.stop()
            if isinstance(exc, OSError):
                self.unbound = "tools"
            raise
        self.started = True
        return self

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        await self.tools.stop()
        await self.proxy.stop()

    def open(
        self, task: Task, cfg: RuntimeSettings, epoch: int = 0, token: str | None = None
    ) -> EpisodeSession:
        token = secrets.token_hex(8) if token is None else token
        session = EpisodeSession(task, cfg, epoch, token)
        self.sessions[token] = session
        return session

    def close(self, session: EpisodeSession) -> None:
        self.sessions.pop(session.token, None)

    def model_base_url(self, session: EpisodeSession) -> str:
        """Root of the model endpoints; OpenAI clients want `<root>/v1`."""
        return self.proxy.base_url(session.token or None)

    def tools_url(self, session: EpisodeSession) -> str:
        return self.tools.url(session.token or None)
