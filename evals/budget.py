"""A spending limit for one `fanout run` command (`--max-cost-usd`).

Checked before each episode starts and told each finished episode's cost, so a run stops starting
episodes once the limit is reached and ends like an interrupted one: what finished is kept, the
run folders resume with `--resume`. Episodes already in flight finish (their tokens are spent
already), so the spending can pass the limit by at most `--max-concurrency` episodes.
"""

from __future__ import annotations


class Budget:
    def __init__(self, limit_usd: float):
        self.limit = limit_usd
        self.spent = 0.0

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.limit

    def spend(self, cost_usd: float | None) -> None:
        """An episode's cost (None: unknown, which `fanout run` and `--resume` refuse before a
        budgeted run starts)."""
        if cost_usd is not None:
            self.spent += cost_usd
