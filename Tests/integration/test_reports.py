"""`assetdedup report` and `assetdedup review` on the real binary: published files, exit codes
cron relies on, review decisions showing up, and a headless Chromium screenshot of each page
(saved under test-artifacts/reports/ for a person to look at)."""
import json
import pathlib

import pytest

from conftest import ROOT, run_cli

TEMPLATES = str(ROOT / "templates")
ARTIFACTS = ROOT / "test-artifacts" / "reports"
PAGES = ["index", "duplicates", "coverage", "migrations"]
SHARED = "ab" * 32
NASTY = "<b>bold</b> | pipe & amp `tick`\nnewline.png"


@pytest.fixture
def seeded(db):
    for name in ["alice", "bob", "carol"]:
        run_cli("user", "add", name, db=db)
    db.script(
            f"""
            INSERT INTO assets (id, user_id, sha256, size, original_filename) VALUES
              (1, 1, '{SHARED}', 4096, 'beach.jpg'), (2, 2, '{SHARED}', 4096, 'beach (copy).jpg'),
              (3, 3, '{"cd" * 32}', 1000, 'song.mp3'), (4, 3, NULL, 10, 'legacy.bin');
            INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id) VALUES
              (1, 'pixverse', 'pv-1'), (1, 'runway', 'rw-1'), (2, 'pixverse', 'pv-2'), (3, 'archive', 'ar-3');
            """
        )
    db.sql("INSERT INTO assets (id, user_id, sha256, size, original_filename) VALUES (5, 2, ?, 7, ?)", "ef" * 32, NASTY)
    db.sync_ids()
    return db


def report(db, out, *extra, check=True):
    return run_cli("report", "--out", str(out), "--templates", TEMPLATES, *extra, db=db, check=check)


@pytest.mark.whole_stack
def test_report_publishes_every_page_with_history(seeded, tmp_path):
    out = tmp_path / "www" / "reports"
    result = report(seeded, out, "--now", "2026-11-19T03:00:00Z")
    assert "published to" in result.stdout and "history 2026-11-19" in result.stdout
    for page in PAGES:
        assert (out / f"{page}.md").stat().st_size > 0
        assert (out / f"{page}.html").read_text().startswith("<!DOCTYPE html>")
        assert (out / "history" / "2026-11-19" / f"{page}.html").exists()
    totals = json.loads((out / "history" / "2026-11-19" / "totals.json").read_text())
    assert totals["assets"] == 5 and totals["duplicate_groups"] == 1 and totals["bytes_saved"] == 4096
    rows = (out / "duplicates.csv").read_text().splitlines()
    assert rows[0].startswith("sha256,size,holders") and len(rows) == 3 and "beach (copy).jpg" in rows[2]
    # The hostile name is escaped in Markdown and HTML, never live markup.
    coverage_html = (out / "coverage.html").read_text()
    assert "<b>bold</b>" not in coverage_html and "&lt;b&gt;bold&lt;/b&gt; | pipe &amp; amp `tick`" in coverage_html
    # A second day keeps the first and compares with it.
    report(seeded, out, "--now", "2026-11-20T03:00:00Z")
    assert sorted(p.name for p in (out / "history").iterdir()) == ["2026-11-19", "2026-11-20"]
    assert "Changes are against the last run (2026-11-19 03:00 UTC)" in (out / "index.md").read_text()
    assert not [p for p in out.parent.iterdir() if p.name != "reports"]


def test_failed_migration_check_exits_non_zero_but_still_publishes(seeded, tmp_path):
    seeded.sql("DROP INDEX idx_asset_user_sha256")
    out = tmp_path / "reports"
    result = report(seeded, out, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: migration checks failed: idx_asset_user_sha256 exists")
    assert "FAILED" in (out / "migrations.md").read_text()


def test_drifted_migration_fails_the_check(seeded, tmp_path):
    seeded.sql("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3")
    result = report(seeded, tmp_path / "reports", check=False)
    assert result.returncode == 1 and "No drifted migrations: edited after being applied: 3" in result.stderr


def test_missing_templates_is_a_one_line_error_and_publishes_nothing(seeded, tmp_path):
    result = run_cli("report", "--out", str(tmp_path / "r"), "--templates", str(tmp_path), db=seeded, check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "layout.html.mustache not found" in result.stderr
    assert not (tmp_path / "r").exists()


def test_review_records_a_decision_the_next_report_shows(seeded, tmp_path):
    bad = [
        (["review", "xyz", "--ignore"], "sha256 must be 64 hex characters"),
        (["review", SHARED], "give exactly one of --keep ASSET_ID or --ignore"),
        (["review", SHARED, "--keep", "1", "--ignore"], "give exactly one of"),
        (["review", SHARED, "--keep", "abc"], "asset id must be a positive integer"),
        (["review", SHARED, "--keep", "3"], "asset 3 is not in group"),
        (["review", SHARED, "--keep", "99"], "no asset with id 99"),
        (["review", "00" * 32, "--ignore"], "no asset holds sha256"),
    ]
    for args, message in bad:
        result = run_cli(*args, db=seeded, check=False)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
    assert seeded.sql("SELECT count(*) FROM duplicate_reviews") == [(0,)]

    ok = run_cli("review", SHARED.upper(), "--keep", "1", "--note", "oldest | keep", "--by", "alice", db=seeded)
    assert f"review recorded for {SHARED}: keep asset 1 by alice" in ok.stdout
    out = tmp_path / "reports"
    report(seeded, out)
    assert "keep asset 1 (alice, " in (out / "duplicates.md").read_text()
    assert "oldest \\| keep |" in (out / "duplicates.md").read_text()
    exported = json.loads((out / "duplicates.json").read_text())
    assert exported["groups"][0]["review"]["note"] == "oldest | keep"


def test_screenshot_of_each_page_in_headless_chromium(seeded, tmp_path):
    pytest.importorskip("selenium.webdriver")
    from browser_support import make_driver, quit_driver

    out = tmp_path / "reports"
    report(seeded, out, "--now", "2026-11-18T03:00:00Z")
    # A second day with more content, so the trend has lines.
    seeded.sql("INSERT INTO assets (user_id, sha256, size, original_filename) VALUES (1, ?, 3000, 'x.png')", "12" * 32)
    report(seeded, out, "--now", "2026-11-20T03:00:00Z")
    driver = make_driver(1280, 1000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        for page in PAGES:
            driver.get((out / f"{page}.html").as_uri())
            assert "AssetDedup report" in driver.title
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, min(max(height + 40, 600), 6000))
            # Charts are inline SVG with a real size: they rendered.
            sizes = driver.execute_script(
                "return [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().width)")
            assert sizes and all(width > 300 for width in sizes)
            assert driver.find_elements("css selector", "main table")
            shot = ARTIFACTS / f"{page}.png"
            driver.save_screenshot(str(shot))
            assert shot.stat().st_size > 10_000
    finally:
        quit_driver(driver)
