"""Screenshot a leaderboard page with headless Chromium: `python scripts/screenshot.py PAGE PNG`.

Used by `make reports` for docs/leaderboard.png (the top of the page at 1,400 px: the headline,
the leaderboard and the first charts). Needs Playwright and Chromium (`apt-get install
chromium`; the browser tests use the same), and exits 3 without them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CHROMIUM = os.environ.get("FANOUT_CHROMIUM", "/usr/bin/chromium")


def main(page: str, png: str, width: int = 1400, height: int = 1500) -> int:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("screenshot: playwright is not installed", file=sys.stderr)
        return 3
    if not Path(CHROMIUM).exists():
        print(f"screenshot: no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 3
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        tab = browser.new_page(viewport={"width": width, "height": height})
        tab.goto(Path(page).resolve().as_uri())
        tab.wait_for_load_state("load")
        tab.screenshot(path=png)
        browser.close()
    print(f"screenshot: {png}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
