"""Code review and CI: pull requests, their builds, and re-running a build (a write).

Pull requests are (repo, number) pairs from a fixed catalogue so prompts can name them; build ids
derive from the seed, so a model learns them from the pull request.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import MANAGERS, World

REPOS = ["web-app", "payments-api", "mobile-app", "data-pipeline", "docs-site", "auth-service"]
PR_NUMBERS = range(100, 160)
_TITLES = [
    "Fix flaky checkout test",
    "Add dark mode toggle",
    "Bump dependencies",
    "Refactor session handling",
    "Speed up CSV export",
    "Add retry to webhook sender",
    "Update onboarding copy",
    "Cache currency rates",
    "Remove legacy login endpoint",
    "Add audit log for refunds",
]
_TESTS = [
    "test_checkout_total",
    "test_login_redirect",
    "test_export_csv",
    "test_refund_flow",
    "test_rate_cache",
]


class PullRequest(Args):
    repo: str = Field(description="Repository name, e.g. payments-api")
    number: int = Field(description="Pull request number")


class BuildId(Args):
    build_id: str = Field(description="A build id as returned by get_pull_request")


def _repo(name: str) -> str:
    r = name.strip().lower()
    if r not in REPOS:
        raise ToolError("not_found", f"no repository {name!r}")
    return r


def _build_id(w: World, repo: str, number: int) -> str:
    return w.ident("bld_", repo, number)


@lru_cache(maxsize=16)
def _builds(seed: int) -> dict[str, tuple[str, int]]:
    w = World(seed)
    return {_build_id(w, r, n): (r, n) for r in REPOS for n in PR_NUMBERS}


def pull_request(w: World, repo: str, number: int) -> dict:
    # Authors are individual contributors (everyone with a manager), so "the author's manager" exists.
    author = w.choice(sorted(k for k in w.people if MANAGERS[w.people[k][0]]), "author", repo, number)
    reviewer = w.choice(sorted(k for k in w.people if k != author), "reviewer", repo, number)
    return {
        "repo": repo,
        "number": number,
        "title": w.choice(_TITLES, "prtitle", repo, number),
        "author_email": f"{author}@example.com",
        "reviewer_email": f"{reviewer}@example.com",
        "state": w.choice(["open", "open", "merged", "closed"], "prstate", repo, number),
        "build_id": _build_id(w, repo, number),
        "additions": w.randint(3, 900, "adds", repo, number),
    }


@tool(
    "get_pull_request",
    PullRequest,
    "Get a pull request. Returns repo, number, title, author_email, reviewer_email, state (open, merged or "
    "closed), build_id (its latest CI build) and additions (lines added).",
    latency=lognormal(0.2, 0.3),
    domain="code",
)
def get_pull_request(a: dict, ctx: ToolContext) -> dict:
    repo = _repo(a["repo"])
    if a["number"] not in PR_NUMBERS:
        raise ToolError("not_found", f"no pull request #{a['number']} in {repo}")
    return pull_request(ctx.world, repo, a["number"])


@tool(
    "get_build",
    BuildId,
    "A CI build. Returns build_id, repo, pull_request, status (passed, failed, running or queued), duration_s (so far while running; null while queued), "
    "failing_tests and attempt (1 for the first run, higher after re-runs).",
    latency=lognormal(0.15, 0.3, straggler_p=0.05, straggler_mult=6.0),
    domain="code",
)
def get_build(a: dict, ctx: ToolContext) -> dict:
    bid = a["build_id"].strip().lower()
    hit = _builds(ctx.world.seed).get(bid)
    if hit is None:
        raise ToolError("not_found", f"no build {a['build_id']!r}")
    w = ctx.world
    repo, number = hit
    status = w.choice(["passed", "passed", "failed", "running"], "bstatus", repo, number)
    failing = []
    if status == "failed":
        k = w.randint(1, 2, "nfail", repo, number)
        failing = sorted({w.choice(_TESTS, "ftest", repo, number, i) for i in range(k)})
    reruns = ctx.state.get("build_reruns", bid, 0)
    if reruns:
        status, failing = "queued", []
    return {
        "build_id": bid,
        "repo": repo,
        "pull_request": number,
        "status": status,
        # a queued build has not run yet; a running one has run for part of its time
        "duration_s": None
        if status == "queued"
        else w.randint(90, 1500, "bdur", repo, number) // (3 if status == "running" else 1),
        "failing_tests": failing,
        "attempt": 1 + reruns,
    }


@tool(
    "rerun_build",
    BuildId,
    "Re-run a CI build. Each call queues another attempt. Returns build_id, status and attempt.",
    write=True,
    latency=lognormal(0.4, 0.2),
    domain="code",
)
def rerun_build(a: dict, ctx: ToolContext) -> dict:
    bid = a["build_id"].strip().lower()
    if bid not in _builds(ctx.world.seed):
        raise ToolError("not_found", f"no build {a['build_id']!r}")
    n = ctx.state.get("build_reruns", bid, 0)
    ctx.mutate("build_reruns", bid, lambda old: (old or 0) + 1)
    return {"build_id": bid, "status": "queued", "attempt": n + 2}
