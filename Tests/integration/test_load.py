"""A short soak (seconds) on the real stack; `scripts/soak` runs the same for minutes."""
import os

import pytest

from soak import assert_soak_clean, run_soak


@pytest.mark.whole_stack
def test_short_soak_has_no_5xx_and_loses_no_rows(make_stack):
    stack = make_stack(threads=16)
    seconds = int(os.environ.get("ASSETDEDUP_SOAK_SECONDS", "15"))
    figures = run_soak(stack, seconds, users=20, upload_threads=6)
    assert_soak_clean(figures)
    # The app's memory does not run away even in a short run (it is measured over minutes by scripts/soak).
    assert figures["rss_end_mib"] < figures["rss_start_mib"] + 64
