"""Recorded workflow histories replayed by tests/test_replay.py; `record.py` writes them."""
