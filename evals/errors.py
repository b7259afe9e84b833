"""The exception tree and the exit codes it maps to, in one place.

Every error the harness raises on purpose derives from `FanoutError`; `cli.main` turns it into
one line on stderr and the exit code of its class, so no subcommand picks its own codes. What an
error means for a run decides its branch: a `UsageError` is the caller's mistake and nothing was
started; an `InfrastructureError` (credentials, quota, an unknown model, a full disk) stops a run
at once and is never written as an episode result, because no model did anything wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic_core import ErrorDetails

EXIT_OK = 0
EXIT_FAIL = 1  # a gate found a regression; an unexpected internal error
EXIT_USAGE = 2  # bad flags, paths or fixtures: nothing was started, no run folder was left behind
EXIT_EPISODE_ERRORS = 3  # the run finished, but some episodes ended in provider errors (--retry-errors)
EXIT_INFRASTRUCTURE = 4  # the run stopped: credentials, quota, unknown model, network, disk or cache
EXIT_BUDGET = 5  # the run stopped at --max-cost-usd before every episode ran; it resumes with --resume
EXIT_INTERRUPTED = 130  # Ctrl-C; the run folder resumes with --resume


class FanoutError(Exception):
    """Root of every deliberate error. `exit_code` is what `fanout` exits with."""

    exit_code: int = EXIT_FAIL


class UsageError(FanoutError):
    """The caller asked for something impossible: a bad flag value, a missing path, a bad fixture."""

    exit_code = EXIT_USAGE


class InfrastructureError(FanoutError):
    """Something outside the model failed and retrying the episode cannot help: stop the run."""

    exit_code = EXIT_INFRASTRUCTURE


class ProviderFatalError(InfrastructureError):
    """A provider answered in a way no retry can fix: 401/403 (credentials), 404 (unknown model or
    endpoint), an exhausted quota or credit, a billing error (402). The message carries the
    provider's own words, never the key."""


class ProviderUnreachableError(InfrastructureError):
    """No connection to the provider could be made on any retry (connection refused, a host name
    that does not resolve, a connect timeout): the network or the server is down, and every
    remaining episode would fail the same way without the model being asked anything."""


class LocalIOError(InfrastructureError):
    """The local disk or the response cache failed (disk full, read-only, corrupt database)."""


class RunLockedError(UsageError):
    """Another `fanout run` holds this run folder's lock."""


def describe_validation(errors: Iterable[ErrorDetails], within: str | None = None) -> str:
    """pydantic's errors as one line, `loc: message; ...`; locations are relative to the field
    `within` when given (a rules file's table, an episode line's scores)."""
    parts = []
    for e in errors:
        path = e["loc"][1:] if within is not None and e["loc"][:1] == (within,) else e["loc"]
        loc = ".".join(str(x) for x in path) or "(top level)"
        parts.append(f"{loc}: unknown key" if e["type"] == "extra_forbidden" else f"{loc}: {e['msg']}")
    return "; ".join(parts)
