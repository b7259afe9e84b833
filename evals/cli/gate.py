"""`fanout gate BASELINE CANDIDATE`: pass/fail a candidate run against a baseline run for CI.

Pair the episodes of two run folders by (task, epoch) and check each rule: a rule fails when its
metric got worse by more than the tolerance AND the paired bootstrap interval of the change
excludes zero. Exit 0: pass; 1: regression; 2: misuse (missing runs, different suites or task
sets, malformed rules). See docs/gating.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import EXIT_FAIL, EXIT_OK
from ..gate import GateError, gate, load_rules, rules_toml, run_pairs
from ..gate_render import render_junit, render_markdown, render_text
from . import Subparsers, command


def register(sub: Subparsers) -> None:
    p = command(sub, "gate", __doc__, "fail CI when a candidate run regresses against a baseline run")
    p.add_argument(
        "baseline",
        nargs="?",
        metavar="BASELINE_RUN",
        help="run folder of the baseline, or a folder of run folders (paired with the candidate's by model)",
    )
    p.add_argument(
        "candidate",
        nargs="?",
        metavar="CANDIDATE_RUN",
        help="run folder of the candidate, or a folder of them",
    )
    p.add_argument("--rules", metavar="GATE_TOML", help="rules file (default: the shipped rules)")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML, one test case per rule")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown summary to FILE")
    p.add_argument(
        "--allow-subset",
        action="store_true",
        help="gate on the (task, epoch) pairs both runs have instead of refusing different task sets",
    )
    p.add_argument(
        "--show-rules", action="store_true", help="print the effective rules as gate.toml text and exit"
    )
    p.set_defaults(func=cmd_gate)


def _write(path: str, text: str, what: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise GateError(f"cannot write the {what} to {path}: {exc.strerror}") from None


def cmd_gate(args: argparse.Namespace) -> int:
    if args.show_rules:
        sys.stdout.write(rules_toml(load_rules(args.rules)))
        return EXIT_OK
    if not args.baseline or not args.candidate:
        raise GateError("give two run folders: fanout gate BASELINE_RUN CANDIDATE_RUN")
    pairs = run_pairs(args.baseline, args.candidate)
    results = [(str(b), str(c), gate(b, c, args.rules, allow_subset=args.allow_subset)) for b, c in pairs]
    md = "\n".join(render_markdown(res, b, c) for b, c, res in results)
    if args.junit:
        _write(args.junit, render_junit(results), "JUnit XML")
    if args.markdown:
        _write(args.markdown, md, "Markdown summary")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as f:
                f.write(md + "\n")
        except OSError as exc:
            raise GateError(
                f"cannot append to $GITHUB_STEP_SUMMARY ({step_summary}): {exc.strerror}"
            ) from None
    for i, (b, c, res) in enumerate(results):
        if len(results) > 1:
            print(("\n" if i else "") + f"== {res.pairing.baseline.config.model} ==")
        sys.stdout.write(render_text(res, b, c))
    passed = all(res.passed for _, _, res in results)
    return EXIT_OK if passed else EXIT_FAIL  # a regression is the gate's answer, not an error
