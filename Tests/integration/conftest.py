"""Shared fixtures for integration tests: they drive the real `assetdedup` binary (and, where a
test needs it, a real nginx and headless Chromium) on 127.0.0.1, against real files."""
import os
import subprocess
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("ASSETDEDUP_BIN", str(ROOT / ".build/debug/assetdedup"))


def run_cli(*args, db=None, check=True, timeout=120, **kwargs):
    """Runs the CLI; returns CompletedProcess with text stdout/stderr."""
    cmd = [BIN, *args]
    if db is not None:
        cmd += ["--db", str(db)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}): {result.stderr}")
    return result


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def db(tmp_path):
    """A migrated database file in a temp folder."""
    path = tmp_path / "assetdedup.sqlite"
    run_cli("migrate", "up", db=path)
    return path
