"""Leaderboard reports from run folders (`fanout report`): load -> tables -> charts/timeline -> html,
markdown, export. `build.build_report` is the entry point."""
