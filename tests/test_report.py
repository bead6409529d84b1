"""The reviewers' report: self-contained, offline, redacted, every number with its base.

The planted personal data are those rmlib.synth writes into the example comments (a person's
name, a phone number, an email, a postcode, a URL); the tests first check that they really are in
the raw exports, so the absence checks can fail.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

from rmlib.synth import _PII_BITS

pytestmark = pytest.mark.slow

PLANTED = [
    "Sarah Jones",
    "07700 900461",
    "j.smith@example.org",
    "CM1 1QH",
    "Mr Patel",
    "Patel",
    "www.example-care.co.uk",
    "David Brown",
    "01245 430000",
]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_planted_items_really_are_in_the_raw_comments(root):
    raw = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (root / "data" / "raw").rglob("*.csv"))
    found = [item for item in PLANTED if item in raw]
    assert len(found) >= 6, f"the example data should carry planted personal data; found only {found}"
    assert all(any(item in bit for bit in _PII_BITS) for item in PLANTED)


def test_no_planted_personal_data_in_any_output(pipeline_run):
    leaks = []
    for f in (pipeline_run / "outputs").rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".json", ".html", ".ipynb", ".txt"):
            text = f.read_text(errors="ignore")
            leaks += [(f.name, item) for item in PLANTED if item in text]
    assert not leaks, leaks


def test_comments_tables_are_redacted_and_carry_no_ids(pipeline_run):
    quotes = (pipeline_run / "outputs" / "2018" / "tables" / "comments_quotes.csv").read_text()
    assert "respondent_id" not in quotes.splitlines()[0]
    import pandas as pd

    summary = pd.read_csv(pipeline_run / "outputs" / "2018" / "tables" / "comments_summary.csv")
    assert summary["redactions"].sum() >= 4, "the planted items should have been counted as redactions"


def test_report_is_self_contained_and_small(pipeline_run):
    path = pipeline_run / "outputs" / "2018" / "report.html"
    html = path.read_text()
    assert path.stat().st_size < 5_000_000
    srcs = re.findall(r'(?:src|href)="([^"]*)"', html)
    local = ("figures/", "tables/tables.xlsx")  # files published beside the report, linked, never loaded
    assert srcs and all(s.startswith(("data:image/png;base64,", "#", *local)) for s in srcs), [
        s[:40] for s in srcs if not s.startswith(("data:", "#", *local))
    ]
    assert not re.findall(r'src="(?!data:)', html), "the report loads nothing from outside itself"
    files = [s for s in srcs if s.startswith(local)]
    assert "tables/tables.xlsx" in files and len([f for f in files if f.endswith(".svg")]) >= 10
    assert all((path.parent / f).is_file() for f in files), [f for f in files if not (path.parent / f).is_file()]
    imgs = re.findall(r"<img [^>]*>", html)
    assert len(imgs) >= 10
    assert all(re.search(r'alt="[^"]{40,}"', i) for i in imgs), "every figure needs a real alt text"
    for section in (
        "main-points",
        "recommendations",
        "appendix",
        "headlines",
        "introduction",
        "officers",
        "providers",
        "comparison",
        "comments",
        "trend",
        "maturity",
        "power",
        "caveats",
        "methodology",
        "provenance",
    ):
        assert f'id="{section}"' in html and f'href="#{section}"' in html, section


def test_suppressed_cells_show_no_mean(pipeline_run):
    import pandas as pd

    out = pipeline_run / "outputs" / "2018"
    cells = pd.read_parquet(pipeline_run / "audit" / "2018" / "data" / "cells_tested.parquet")
    small = cells[(cells["suppression"] == "primary") & (cells["n"] > 0) & (cells["attribute"] != "all")]
    assert len(small) and small["mean"].isna().all()
    for table, rows in small.groupby("table"):
        csv = pd.read_csv(out / "tables" / f"{table}.csv", dtype=str, keep_default_na=False)
        pub = csv.merge(rows[["group", "category", "question"]].astype(str), on=["group", "category", "question"])
        assert (pub["mean"] == "").all() and (pub["n"] == "fewer than 5").all(), table
    h = json.loads((out / "headlines.json").read_text())
    assert all(q["mean"] is not None for g in h["groups"].values() for q in g["questions"].values())


def test_published_folder_passes_the_scan_and_the_differencing_attack(pipeline_run):
    """Only publishable files in outputs/2018; the attacker of test_differencing, given every published
    cell table, recovers nothing; intermediate data and listings are in the audit area."""
    import pandas as pd
    from test_differencing import attack

    from rmlib import publish

    out = pipeline_run / "outputs" / "2018"
    audit = pipeline_run / "audit" / "2018"
    cells = pd.read_parquet(audit / "data" / "cells_tested.parquet")
    publish.scan_published(out, 5, suppressed_cells=cells)
    assert not (out / "notebooks").exists() and (audit / "notebooks" / "05_report.ipynb").is_file()
    assert not (out / "data").exists() and (audit / "data" / "cells.parquet").is_file()
    assert not (out / "tables" / "cleaning_log.csv").exists()
    tables = [
        pd.read_csv(out / "tables" / f"{t}.csv", dtype=str, keep_default_na=False) for t in cells["table"].unique()
    ]
    pub = pd.concat(tables, ignore_index=True).replace("", float("nan"))
    assert attack(pub, 5) == []
    html = (out / "report.html").read_text()
    links = re.findall(r'(?:href|src)\s*=\s*["\']([^"\']*)', html)
    assert not [x for x in links if re.search(r"notebooks/|\.ipynb|audit/|\.parquet", x)]
    assert "notebooks/html" not in html and ".ipynb" not in html  # not even named
    power = pd.read_csv(out / "tables" / "power.csv", dtype=str, keep_default_na=False)
    assert not pd.to_numeric(power["n"], errors="coerce").lt(5).any()
    assert "Only 1 respondent" not in (out / "tables" / "caveats.csv").read_text()
    assert "Head of Service or Manager" in html  # the merge is applied and stated


@pytest.mark.browser
def test_report_renders_offline_in_headless_chromium(pipeline_run, tmp_path):
    chromium = _chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    report = pipeline_run / "outputs" / "2018" / "report.html"
    # a test copy with a probe script appended: it records every resource the page loaded and every image
    # that failed to decode (the report itself has no script); the network is off (all hosts unresolvable)
    probe = tmp_path / "probe.html"
    probe.write_text(
        report.read_text().replace(
            "</body>",
            """<script>
window.addEventListener('load', () => {
  const res = performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'));
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length;
  document.body.setAttribute('data-probe', JSON.stringify({res, broken, images: document.images.length}));
});</script></body>""",
        )
    )
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [chromium, *flags, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    for needle in ("2.55", "2.65", "85 responses", "97 responses", "fewer than 5", "Holm"):
        assert needle in text, needle
    m = re.search(r"data-probe=\"([^\"]*)\"", text)
    assert m, "the page did not finish loading"
    probe_data = json.loads(m.group(1).replace("&quot;", '"'))
    assert probe_data["res"] == [], f"the report requested resources: {probe_data['res']}"
    assert probe_data["broken"] == 0 and probe_data["images"] >= 10, probe_data
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            *flags[:-1],
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 50_000, "the screenshot looks blank"


def test_main_points_first_every_finding_shown_and_no_internal_ids(pipeline_run):
    """Main points before everything else; nothing collapsed; reader text without ids, ISO dates or -0%."""
    import html as _html

    import pandas as pd

    out = pipeline_run / "outputs" / "2018"
    html = (out / "report.html").read_text()
    assert html.index('id="main-points"') < html.index('id="recommendations"') < html.index('id="headlines"')
    main = html[html.index('id="main-points"') : html.index('id="recommendations"')]
    bullets = re.findall(r"<li>(.*?)</li>", main[: main.index("</ul>")], re.S)
    assert 5 <= len(bullets) <= 8, bullets
    assert "▲" in main and "no significant change" in main  # the what-changed table with its marks
    assert "<details" not in html  # nothing collapsed, so nothing lost in print
    findings = pd.read_csv(out / "tables" / "findings.csv")
    text = _html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'data:image/[^"]+', "", html)))
    missing = [t for t in findings["text"] if _html.unescape(t) not in text]
    assert not missing, missing[:3]
    a, b = html.index('<h2 id="provenance"'), html.index('<h2 id="appendix"')  # provenance is for auditors
    reader = _html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'data:image/[^"]+', "", html[:a] + html[b:])))
    assert not re.search(r"[-−]0%", reader) and not re.search(r"\b20\d\d-\d\d-\d\d\b", reader)
    assert not re.search(r"\b(?:provider|officer|compare)_by_\w+", reader)
    assert "(id " not in reader and "What the data can carry" not in reader
    assert "27 November 2018" in text and "Written by officers" in text and "Response rate" in text


def test_workbook_holds_every_published_table_with_definitions(pipeline_run):
    import pandas as pd
    from openpyxl import load_workbook

    out = pipeline_run / "outputs" / "2018" / "tables"
    wb = load_workbook(out / "tables.xlsx")
    csvs = sorted(p.stem for p in out.glob("*.csv"))
    assert wb.sheetnames[0] == "Definitions" and sorted(wb.sheetnames[1:]) == sorted(c[:31] for c in csvs)
    for name in ("provider_by_size", "headline", "findings"):
        csv = pd.read_csv(out / f"{name}.csv")
        ws = wb[name]
        rows = list(ws.values)
        sheet = pd.DataFrame(rows[1:], columns=rows[0])
        assert list(sheet.columns) == list(csv.columns) and len(sheet) == len(csv), name
        for col in csv.select_dtypes("number").columns:
            got, want = pd.to_numeric(sheet[col]).astype(float), csv[col].astype(float)
            assert ((got - want).abs().lt(1e-9) | (got.isna() & want.isna())).all(), (name, col)
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    defined = {r[0] for r in list(wb["Definitions"].values)[1:]}
    assert {"mean", "n", "rest_p_adj", "status"} <= defined


@pytest.mark.browser
def test_print_main_points_on_page_one_and_main_body_within_25_pages(pipeline_run, tmp_path):
    chromium = _chromium()
    if chromium is None or not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("chromium and poppler-utils are required in CI")
        pytest.skip("chromium or pdftotext not installed")
    report = pipeline_run / "outputs" / "2018" / "report.html"
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'p'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    assert "Main points" in pages[0] and "What changed since 2017" in pages[0] and "Overall score" in pages[0]
    first_appendix = next(i for i, p in enumerate(pages) if p.lstrip().startswith("Appendix A"))
    assert first_appendix <= 25, f"the main body runs to {first_appendix} pages"


@pytest.mark.browser
def test_no_sideways_page_scroll_on_a_phone_and_figures_keep_their_size(pipeline_run, tmp_path):
    """At 390 px (a phone) the page is no wider than the screen: wide tables and figures scroll inside their
    own frame, and a figure is not shrunk below 640 px (its text stays readable). Measured in a 390 px iframe,
    because headless Chromium's window has a minimum width."""
    chromium = _chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    shutil.copy(pipeline_run / "outputs" / "2018" / "report.html", tmp_path / "report.html")
    (tmp_path / "phone.html").write_text("""<!doctype html><html><body>
<iframe id="f" src="report.html" style="width:390px;height:800px;border:0"></iframe><script>
document.getElementById('f').addEventListener('load', function () {
  const d = this.contentDocument.documentElement;
  const imgs = [...this.contentDocument.querySelectorAll('figure img')].map(i => i.getBoundingClientRect().width);
  document.body.setAttribute('data-phone', JSON.stringify({scroll: d.scrollWidth, client: d.clientWidth,
                                                           narrowest: Math.min(...imgs), figures: imgs.length}));
});</script></body></html>""")
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            f"--user-data-dir={tmp_path / 'p'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            (tmp_path / "phone.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    m = re.search(r"data-phone=\"([^\"]*)\"", dom.stdout)
    assert m, "the page did not finish loading"
    got = json.loads(m.group(1).replace("&quot;", '"'))
    assert got["scroll"] <= got["client"] <= 390, got
    assert got["figures"] >= 10 and got["narrowest"] >= 640, got


def test_methods_quote_each_question_as_the_codebook_asks_it(root):
    import yaml

    from rmlib.params import load_params
    from rmlib.report import question_wording

    asked = yaml.safe_load((root / "params" / "codebooks" / "2018.yaml").read_text(encoding="utf-8"))["questions"]
    wording = question_wording(load_params(root / "params" / "2018.yaml"))
    assert [text for _, text in wording] == list(asked.values())
    assert wording[1] == ("Trust", "How well do we trust each other?")


@pytest.mark.slow
def test_report_prints_the_question_wording(pipeline_run):
    html = (pipeline_run / "outputs" / "2018" / "report.html").read_text(encoding="utf-8")
    assert "The questions, as asked" in html and "How well do we trust each other?" in html


@pytest.mark.slow
def test_a_run_at_the_ons_threshold_publishes_and_gives_nothing_back(tmp_path, monkeypatch):
    """min_cell_n = 10 (ONS practice) as a user sets it in params: the run passes its own publication scan
    (no base under 10 anywhere, methods text included) and the differencing attacker recovers nothing."""
    import pandas as pd
    from conftest import copy_repo
    from test_differencing import attack

    from rmlib.pipeline import run

    dest = copy_repo(tmp_path / "repo")
    monkeypatch.setenv("RMLIB_ROOT", str(dest))
    monkeypatch.chdir(dest)
    pf = dest / "params" / "2018.yaml"
    pf.write_text(re.sub(r"(?m)^min_cell_n: 5\b", "min_cell_n: 10", pf.read_text()))
    run("params/2018.yaml", say=lambda s: None)
    out, audit = dest / "outputs" / "2018", dest / "audit" / "2018"
    cells = pd.read_parquet(audit / "data" / "cells_tested.parquet")
    assert cells["suppressed"].sum() > 0
    tables = [
        pd.read_csv(out / "tables" / f"{t}.csv", dtype=str, keep_default_na=False) for t in cells["table"].unique()
    ]
    assert attack(pd.concat(tables, ignore_index=True).replace("", float("nan")), 10) == []
    assert "fewer than 10" in (out / "report.html").read_text()
