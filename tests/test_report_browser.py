"""The generated leaderboard in a real browser: headless Debian Chromium driven by Playwright.

Opened from file:// with no server: the page must work offline, load nothing, log no error, sort
on a header click, draw the chosen episode's timeline, and keep hostile run content inert.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg
from report_runs import IMG, SCRIPT, poison, run_policies, write_suite

from evals.report.build import build_report

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MODELS = ["policy/oracle", "policy/greedy", "policy/sequential", "policy/redundant"]


@pytest.fixture(scope="module")
def browser(built, hostile, full, crowded):
    # Playwright's sync API keeps an event loop running on this thread, so the runs (asyncio.run)
    # are all made before the browser starts.
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    suite = write_suite(root)
    runs = run_policies(suite, root / "runs", MODELS)
    files = build_report(runs, root / "out")
    return runs, files


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    suite = write_suite(root)
    (run,) = run_policies(suite, root / "runs", ["policy/oracle"])
    poison(run)
    return build_report([run], root / "out")


class Page:
    """A page with its console errors, network requests and dialogs recorded from the first byte."""

    def __init__(self, browser, path: Path):
        self.url = path.resolve().as_uri()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def _dialog(self, d) -> None:
        self.dialogs.append(d.message)
        d.dismiss()

    def column(self, table: str, col: int) -> list[str]:
        return self.page.eval_on_selector_all(
            f"#{table} tbody tr", f"rows => rows.map(r => r.cells[{col}].dataset.v)"
        )


def _episodes(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    return sorted(rows, key=lambda r: (r["task_id"], r["epoch"]))


def test_page_sorts_draws_timelines_and_stays_offline(browser, built, tmp_path):
    runs, files = built
    p = Page(browser, files.html)
    try:
        # default order is the documented one: the rank column ascends
        assert p.column("leaderboard-table", 0) == [repr(float(i)) for i in range(1, len(MODELS) + 1)]
        default_models = p.column("leaderboard-table", 1)
        assert default_models == [r["model"] for r in files.rows]

        headers = p.page.locator("#leaderboard-table thead th")
        wall_col = [headers.nth(i).inner_text().strip() for i in range(headers.count())].index("Wall p50")
        headers.nth(wall_col).click()  # first click on a lower-is-better column: ascending
        walls = [float(v) for v in p.column("leaderboard-table", wall_col)]
        assert walls == sorted(walls)
        by_wall = [m for _, m in sorted((r["wall_s_p50"], r["model"]) for r in files.rows)]
        assert p.column("leaderboard-table", 1) == by_wall
        assert headers.nth(wall_col).get_attribute("aria-sort") == "ascending"
        headers.nth(wall_col).click()
        assert p.column("leaderboard-table", 1) == by_wall[::-1]
        assert headers.nth(wall_col).get_attribute("aria-sort") == "descending"
        assert by_wall != default_models[::-1]  # the reversal is a real reordering, not the initial order

        headers.nth(1).click()  # text column, first click ascending
        assert p.column("leaderboard-table", 1) == sorted(MODELS)

        # timeline: pick the greedy run and its first wide task; one bar per call, one per model turn
        labels = p.page.eval_on_selector_all("#tl-run option", "os => os.map(o => o.textContent)")
        greedy = next(i for i, t in enumerate(labels) if t.startswith("policy/greedy "))
        p.page.select_option("#tl-run", str(greedy))
        greedy_dir = next(d for d in runs if d.name.endswith("policy-greedy"))
        eps = _episodes(greedy_dir)
        k = next(i for i, e in enumerate(eps) if e["task_id"] == "rtest_wide_02")
        p.page.select_option("#tl-episode", str(k))
        trace = eps[k]["trace"]
        assert p.page.locator("#tl-chart svg rect.tl-call").count() == len(trace["calls"]) == 9
        assert p.page.locator("#tl-chart svg rect.tl-model").count() == len(trace["turns"])
        premature = sum(1 for c in trace["calls"] if c["cls"] == "premature")
        assert premature > 0
        assert p.page.locator("#tl-chart svg rect.tl-premature").count() == premature
        assert p.page.locator("#tl-chart svg rect.tl-straggler").count() == sum(
            c["straggler"] for c in trace["calls"]
        )
        assert p.page.locator("#tl-calls tbody tr").count() == 9
        assert "rtest_wide_02" in p.page.inner_text("#tl-summary")
        # the bars sit where the trace says: the widest call spans the most pixels
        widths = p.page.eval_on_selector_all(
            "#tl-chart svg rect.tl-call", "rs => rs.map(r => parseFloat(r.getAttribute('width')))"
        )
        durations = [c["end_s"] - c["start_s"] for c in trace["calls"]]
        assert int(np.argmax(widths)) == int(np.argmax(durations))

        shot = tmp_path / "leaderboard.png"
        p.page.evaluate("window.scrollTo(0, 0)")
        p.page.screenshot(path=str(shot))
        rgb = (mpimg.imread(shot)[..., :3] * 255).astype(np.uint32)
        assert rgb.shape == (1000, 1400, 3)
        assert float(rgb.std()) > 10  # not a blank page
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        assert len(np.unique(packed)) > 50  # text, table and chart colours, not a flat fill

        assert p.errors == []
        assert p.requests == [p.url]
        assert p.dialogs == []
    finally:
        p.page.close()


def test_hostile_run_content_is_inert(browser, hostile):
    files = hostile
    raw = files.html.read_text()
    assert SCRIPT not in raw and IMG not in raw
    assert "&lt;script&gt;window.__pwned" in raw  # autoescaped in the table and the runs section
    assert "&lt;script&gt;" in files.markdown.read_text() and SCRIPT not in files.markdown.read_text()

    p = Page(browser, files.html)
    try:
        p.page.wait_for_timeout(300)  # give an injected onerror handler time to fire
        assert p.page.evaluate("typeof window.__pwned") == "undefined"
        assert p.dialogs == []
        assert p.page.locator("img").count() == 0
        assert p.page.locator("script").count() == 2  # the timeline data and the page script
        assert p.page.inner_text("#leaderboard-table tbody tr td:nth-child(2)") == f"evil/{SCRIPT}"
        assert p.page.inner_text("#tl-final") == f"The answer {SCRIPT} and {IMG} end"
        first_call = p.page.locator("#tl-calls tbody tr").first.locator("td")
        assert first_call.nth(2).inner_text() == f"lookup_city{IMG}"
        assert first_call.nth(3).inner_text() == json.dumps({"name": SCRIPT + IMG})
        titles = p.page.eval_on_selector_all("#tl-chart svg title", "ts => ts.map(t => t.textContent)")
        assert any(IMG in t for t in titles)
        assert p.errors == []
        assert p.requests == [p.url]
    finally:
        p.page.close()


# -- layout, colours, labels and what the page shows by pattern (issue 17, items 9 to 11) ------

FIVE = ["policy/oracle", "policy/sequential", "policy/greedy", "policy/redundant", "policy/lazy"]
AGENTS = Path(__file__).resolve().parents[1] / "reports" / "agent_runtimes.json"


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Five models, a what-if sweep and the agent-runtimes table: the published page's shape."""
    root = tmp_path_factory.mktemp("full")
    suite = write_suite(root)
    runs = run_policies(suite, root / "runs", FIVE)
    whatif = root / "wi"
    from evals.cli import main as fanout

    argv = [
        "whatif",
        str(root / "runs"),
        "--sweep",
        "inference-profile=fast,typical,slow",
        "--out",
        str(whatif),
    ]
    assert fanout(argv) == 0
    files = build_report(runs, root / "out", whatif=whatif / "whatif.json", agent_runtimes=AGENTS)
    mixed_runs = run_policies(suite, root / "seed1", ["policy/oracle", "policy/lazy"], "--seed", "1")
    mixed = build_report([*runs, *mixed_runs], root / "mixed")
    return files, mixed


@pytest.mark.parametrize("width", [1400, 1024])
def test_layout_fits_without_sideways_scrolling(browser, full, tmp_path, width):
    files, _ = full
    p = Page(browser, files.html)
    try:
        p.page.set_viewport_size({"width": width, "height": 1200})
        p.page.wait_for_timeout(100)
        sizes = p.page.evaluate(
            """() => ({
              page: document.scrollingElement.scrollWidth, view: window.innerWidth,
              tables: Array.from(document.querySelectorAll('table.leaderboard')).map(
                t => [t.scrollWidth, t.parentElement.clientWidth]),
              figures: Array.from(document.querySelectorAll('#charts figure')).map(
                f => [f.getBoundingClientRect().right, document.querySelector('main').getBoundingClientRect().right]),
              optional: Array.from(document.querySelectorAll('#leaderboard-table th.opt')).map(
                th => getComputedStyle(th).display),
            })"""
        )
        assert sizes["page"] <= sizes["view"], sizes  # no sideways scrolling of the page
        # a model name wraps only when it must: the reference names stay on one line
        lines = p.page.eval_on_selector_all(
            "#leaderboard-table tbody td.model",
            """ts => ts.map(t => {
              const r = document.createRange(); r.selectNodeContents(t.lastChild);
              return r.getClientRects().length; })""",
        )
        assert lines == [1] * len(FIVE), lines
        assert all(table <= box for table, box in sizes["tables"]), sizes  # nor of the leaderboard
        assert all(right <= main + 1 for right, main in sizes["figures"]), sizes
        if width >= 1400:  # every column shown
            assert sizes["optional"] and "none" not in sizes["optional"]
        else:  # the details go first; rank, model, the headline and the rates stay
            assert set(sizes["optional"]) == {"none"}
            shown = p.page.eval_on_selector_all(
                "#leaderboard-table thead th",
                "hs => hs.filter(h => getComputedStyle(h).display !== 'none').map(h => h.innerText.trim())",
            )
            assert shown[:4] == ["#", "Model", "Parallel success", "Success"]
            assert "Speedup vs sequential" in " ".join(shown) and "Wall / ideal" in " ".join(shown)
        shot = tmp_path / f"leaderboard-{width}.png"
        p.page.screenshot(path=str(shot), full_page=False)
        rgb = (mpimg.imread(shot)[..., :3] * 255).astype(np.uint32)
        assert rgb.shape == (1200, width, 3) and float(rgb.std()) > 10
        assert p.errors == [] and p.requests == [p.url]
    finally:
        p.page.close()


def test_headline_sentence_points_labels_and_stable_colours(browser, full):
    from evals.report.charts import REFERENCE_COLORS, model_colors

    files, mixed = full
    p = Page(browser, files.html)
    try:
        sentence = p.page.inner_text("#headline")
        assert sentence.startswith("Ranked by parallel success:")
        assert p.column("leaderboard-table", 1)[0] == "policy/oracle"  # the headline ranks it first
        # every scatter point carries its model's name
        texts = p.page.eval_on_selector_all(
            "#chart-success-wall svg text", "ts => ts.map(t => t.textContent)"
        )
        timed = [r["model"] for r in files.rows if r["wall_s_p50"] is not None]
        assert len(timed) == 4  # lazy succeeds on no task of this suite: no point, and the caption says so
        for m in timed:
            assert any(m in t for t in texts), m
        caption = p.page.inner_text("#chart-success-wall figcaption")
        assert caption.endswith("Not shown, no successful episode to time: policy/lazy.")
        # one colour per model, distinct, the reference policies' own, the same in the charts
        swatches = p.page.eval_on_selector_all(
            "#leaderboard-table tbody td .swatch", "ss => ss.map(s => getComputedStyle(s).backgroundColor)"
        )
        assert len(set(swatches)) == len(FIVE)
        colors = model_colors(FIVE)
        assert colors["policy/oracle"] != colors["policy/lazy"]
        assert all(colors[m] == REFERENCE_COLORS[m.split("/")[1]] for m in FIVE)
        svg = files.html.read_text()
        for m in FIVE:
            assert colors[m] in svg  # the charts draw each model in its colour
        # the same model keeps its colour in another report (here: with other runs beside it)
        assert model_colors(["openai/gpt-x", "policy/lazy"])["policy/lazy"] == colors["policy/lazy"]
        assert (
            model_colors(["a/b", "openai/gpt-x"])["openai/gpt-x"]
            == model_colors(["openai/gpt-x"])["openai/gpt-x"]
        )
        assert p.errors == []
    finally:
        p.page.close()


def test_heatmaps_and_pattern_matrices(browser, full):
    files, _ = full
    p = Page(browser, files.html)
    try:
        for metric in ("parallel-success-rate", "success-rate", "fan-out-recall", "incorrect-fan-out-rate"):
            assert p.page.locator(f"#chart-patterns-{metric} svg").count() == 1, metric
        tabs = p.page.locator("#pattern-tabs [role=tab]")
        names = [tabs.nth(i).inner_text() for i in range(tabs.count())]
        assert names[:4] == ["Parallel success", "Success", "Fan-out recall", "Incorrect fan-out"]
        assert "Speedup vs sequential" in names and "BFCL accuracy" not in names  # none defines it here
        visible = p.page.eval_on_selector_all(".matrix", "ms => ms.filter(m => !m.hidden).map(m => m.id)")
        assert visible == ["pm-parallel-success-rate"]
        tabs.nth(3).click()  # incorrect fan-out
        visible = p.page.eval_on_selector_all(".matrix", "ms => ms.filter(m => !m.hidden).map(m => m.id)")
        assert visible == ["pm-incorrect-fan-out-rate"]
        rows = p.page.locator("#pattern-table-incorrect-fan-out-rate tbody tr").count()
        assert rows == len({r["pattern"] for r in json.loads(files.json.read_text())["by_pattern"]})
        header = p.page.eval_on_selector_all(
            "#pattern-table-incorrect-fan-out-rate thead th", "hs => hs.map(h => h.innerText.trim())"
        )
        assert header == ["Pattern", "Tasks", *[r["model"] for r in files.rows]]

        # keyboard, as the ARIA tabs pattern: only the selected tab is in the Tab order, arrows,
        # Home and End move the selection and the focus; each panel is named by its tab
        def state():
            return p.page.evaluate(
                """() => ({
                  selected: Array.from(document.querySelectorAll('#pattern-tabs [role=tab]')).filter(
                    t => t.getAttribute('aria-selected') === 'true').map(t => t.innerText),
                  tabbable: Array.from(document.querySelectorAll('#pattern-tabs [role=tab]')).filter(
                    t => t.tabIndex === 0).map(t => t.innerText),
                  focused: document.activeElement.innerText,
                  visible: Array.from(document.querySelectorAll('.matrix')).filter(m => !m.hidden).map(
                    m => document.getElementById(m.getAttribute('aria-labelledby')).innerText),
                })"""
            )

        tabs.nth(3).focus()
        p.page.keyboard.press("ArrowRight")
        assert state() == {
            "selected": [names[4]],
            "tabbable": [names[4]],
            "focused": names[4],
            "visible": [names[4]],
        }
        p.page.keyboard.press("End")
        assert state()["selected"] == [names[-1]] == state()["visible"]
        p.page.keyboard.press("ArrowRight")  # wraps
        assert state()["selected"] == [names[0]] and state()["focused"] == names[0]
        p.page.keyboard.press("ArrowLeft")
        assert state()["selected"] == [names[-1]]
        p.page.keyboard.press("Home")
        assert state()["selected"] == [names[0]]
        assert p.page.get_attribute("#pattern-tabs", "aria-label")
        # a leaderboard header sorts from the keyboard too (a real button: Enter activates it)
        p.page.locator("#leaderboard-table thead").get_by_role("button", name="Success", exact=True).focus()
        p.page.keyboard.press("Enter")
        sorted_by = p.page.locator("#leaderboard-table thead th[aria-sort]")
        assert (sorted_by.inner_text().strip(), sorted_by.get_attribute("aria-sort")) == (
            "Success",
            "descending",
        )
        names_of_charts = p.page.eval_on_selector_all(
            "#charts svg[role=img]", "ss => ss.map(s => s.getAttribute('aria-label'))"
        )
        titles = p.page.eval_on_selector_all("#charts figcaption strong", "ss => ss.map(s => s.innerText)")
        assert names_of_charts and set(names_of_charts) <= set(titles)  # charts are named by their titles
        assert p.errors == []
    finally:
        p.page.close()


def test_runs_that_do_not_compare_are_warned_about_and_grouped(browser, full):
    _, mixed = full
    p = Page(browser, mixed.html)
    try:
        warning = p.page.inner_text("#comparability")
        assert "The runs differ in seed (0: 5 runs; 1: 2 runs): ranked in separate groups" in warning
        assert p.page.locator("table.leaderboard").count() == 2
        assert p.page.inner_text("#group-A").startswith("Group A: seed: 0")
        assert p.page.inner_text("#group-B").startswith("Group B: seed: 1")
        ranks = p.column("leaderboard-table-B", 0)
        assert ranks == ["1.0", "2.0"]  # ranks restart in each group
        assert any("differ in seed" in w for w in mixed.warnings)
    finally:
        p.page.close()


def test_agent_runtimes_table(browser, full):
    files, _ = full
    data = json.loads(AGENTS.read_text())
    p = Page(browser, files.html)
    try:
        rows = p.page.locator("#agent-table tbody tr")
        assert rows.count() == len(data["rows"])
        first = rows.first.locator("td")
        assert first.nth(0).inner_text() == data["rows"][0]["agent"]
        expected = f"{data['rows'][0]['runtime_concurrency']:.2f} / {data['rows'][0]['runtime_concurrency_ideal']:.2f}"
        assert first.nth(2).inner_text() == expected
        assert "## Agent runtimes" in files.markdown.read_text()
    finally:
        p.page.close()


# -- ten models, one named with 200 characters; a phone-sized viewport ----------------------------

LONG_MODEL = "openai/" + ("a-very-long-fine-tune-name-" * 8)[:193]


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """Ten runs, one of them a model named with 200 characters (a user's fine-tune can be)."""
    import shutil

    root = tmp_path_factory.mktemp("crowded")
    suite = write_suite(root)
    runs = run_policies(suite, root / "runs", FIVE)
    for i, src in enumerate(runs):
        copy = root / "runs" / f"{src.name}-copy"
        shutil.copytree(src, copy)
        cfg = json.loads((copy / "run.json").read_text())
        cfg["model"] = LONG_MODEL if i == 0 else f"openai/variant-{i}"
        cfg["run_id"] += "-copy"
        cfg["runtime"]["inference_profile"] = "typical"  # as the policies' runs were timed: one group
        (copy / "run.json").write_text(json.dumps(cfg))
    assert len(LONG_MODEL) == 200
    return build_report([root / "runs"], root / "out")


@pytest.mark.parametrize("width", [1400, 1024, 375])
def test_ten_models_and_a_200_character_name_keep_the_layout(browser, crowded, width):
    """The long name wraps in its cell and is shortened in the charts, so the figures stay on
    screen; down to a phone's width the page itself never scrolls sideways (a wide table scrolls
    in its own box)."""
    p = Page(browser, crowded.html)
    try:
        p.page.set_viewport_size({"width": width, "height": 900})
        p.page.wait_for_timeout(100)
        sizes = p.page.evaluate(
            """() => ({
              page: document.scrollingElement.scrollWidth, view: window.innerWidth,
              table: [document.querySelector('#leaderboard-table').scrollWidth,
                      document.querySelector('#leaderboard-table').parentElement.clientWidth],
            })"""
        )
        assert sizes["page"] <= sizes["view"], sizes
        if width >= 1024:  # the leaderboard fits: the name wraps instead of pushing the figures off
            assert sizes["table"][0] <= sizes["table"][1], sizes
        texts = p.page.eval_on_selector_all(
            "#leaderboard-table tbody td.model", "ts => ts.map(t => t.innerText)"
        )
        assert LONG_MODEL in [t.strip() for t in texts]  # the table keeps the full name
        assert LONG_MODEL not in p.page.inner_html("#chart-success-wall")  # shortened in the chart
        # the scatter's plot area is not squeezed to a strip by its labels: the axes' tick labels
        # spread over most of the figure
        xs = p.page.eval_on_selector_all(
            "#chart-success-wall svg g[id*='xtick']", "gs => gs.map(g => g.getBoundingClientRect().x)"
        )
        fig = p.page.locator("#chart-success-wall svg").bounding_box()
        assert xs and (max(xs) - min(xs)) > 0.5 * fig["width"], (xs, fig)
        assert p.errors == [] and p.requests == [p.url]
    finally:
        p.page.close()
