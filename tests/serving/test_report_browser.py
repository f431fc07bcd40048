"""The scorecard in a real browser: charts rendered, no console errors, a screenshot.

Uses Debian's `chromium` (installed by the setup); skipped, saying so, when it is absent.
The screenshot is left in `artifacts/report.png` (git-ignored) for a human to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .browser import CHROMIUM, Browser
from .marts_fixture import AGENCY_COUNTS, COMMUNES_FULL, FULL, REPO, cds

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium; `make setup` does it)",
)
ARTIFACTS = REPO / "artifacts"

# For each chart: its size and how many marks (bars, points) have a non-zero size.
MEASURE_CHARTS = """
(() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const marks = Array.from(svg.querySelectorAll('.bar, .point')).filter(m => {
    const r = m.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  });
  return {label: svg.getAttribute('aria-label'), width: box.width, height: box.height,
          marks: marks.length, section: svg.closest('section').id};
}))()
"""


def test_the_scorecard_renders_its_charts_without_errors(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    done = cds(["report", "--out", str(out)], published, tmp_path)
    assert done.returncode == 0, done.stderr
    page = out / f"bao-cao-chuyen-doi-so-{FULL}.html"

    with Browser(width=1280, height=2000) as browser:
        browser.open(page.as_uri())
        charts = browser.evaluate(MEASURE_CHARTS)
        title = browser.evaluate("document.title")
        details = browser.evaluate("document.querySelectorAll('details').length")
        # Opening an agency's breakdown shows its table.
        opened = browser.evaluate(
            "(() => { const d = document.querySelector('details'); d.open = true;"
            " return d.querySelector('table').getBoundingClientRect().height; })()"
        )
        screenshot = browser.screenshot(ARTIFACTS / "report.png")
        errors = list(browser.errors)

    assert errors == []
    assert title == f"Kết quả Chuyển đổi số tỉnh Điện Biên năm {FULL}"
    assert details == len(AGENCY_COUNTS) and opened > 0
    assert all(c["width"] > 0 and c["height"] > 0 for c in charts), charts
    by_section: dict[str, list[dict]] = {}
    for chart in charts:
        by_section.setdefault(chart["section"], []).append(chart)
    # One ranking chart per group, a bar per ranked agency (one of them has too little data).
    rankings = by_section["xep-hang"]
    assert len(rankings) == 3
    assert sum(c["marks"] for c in rankings) == len(AGENCY_COUNTS) - 1
    # The territorial view: a point per commune, two bars per commune.
    scatter, bars = by_section["ha-tang"]
    assert scatter["marks"] == len(COMMUNES_FULL)
    assert bars["marks"] == 2 * len(COMMUNES_FULL)
    assert by_section["chi-tieu"][0]["marks"] == 4  # met, not met, no target, no data
    assert screenshot.stat().st_size > 10_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_browser_check_does_see_console_errors(tmp_path: Path) -> None:
    """The harness itself: a page with a script error and a missing image is caught."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><img src='missing.png'>"
        "<script>console.error('boom'); undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    with Browser(width=400, height=300) as browser:
        browser.open(page.as_uri())
        errors = list(browser.errors)
    assert any("boom" in e for e in errors), errors
    assert any("undefinedFunction" in e for e in errors), errors
