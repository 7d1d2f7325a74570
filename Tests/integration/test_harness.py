"""The test harness's own store plumbing (conftest's Database), where it can be checked without a
store: the SQL a test writes for SQLite is what psycopg runs on PostgreSQL."""

from conftest import _pg_placeholders


def test_placeholders_become_psycopg_ones_outside_quotes_only():
    assert _pg_placeholders("SELECT id FROM assets WHERE sha256 = ? AND user_id = ?") == \
        "SELECT id FROM assets WHERE sha256 = %s AND user_id = %s"
    # A literal `?` stays; a literal `%` (LIKE patterns) is escaped, inside quotes or not.
    assert _pg_placeholders("SELECT ? WHERE note = 'why?' AND name LIKE 'soak%'") == \
        "SELECT %s WHERE note = 'why?' AND name LIKE 'soak%%'"
    # A doubled quote inside a literal keeps the literal open.
    assert _pg_placeholders("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"
