"""The digit store: lookups, growth, streaming and crash safety."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compute.digit_store import DigitStore


@pytest.fixture
def store(tmp_path: Path) -> DigitStore:
    return DigitStore(tmp_path / "digits")


def test_empty_store_knows_nothing(store: DigitStore) -> None:
    assert len(store) == 0
    assert not store.covers(1)
    assert store.digit(1) is None
    assert store.read(1, 10) == ""


def test_reads_places_counted_from_one(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:1000])
    assert store.digit(1) == "1"
    assert store.digit(6) == "2"
    assert store.read(762, 6) == "999999"
    assert store.read(995, 100) == reference_digits[994:1000]
    assert store.covers(1000) and not store.covers(1001) and not store.covers(0)


def test_only_grows(store: DigitStore, reference_digits: str) -> None:
    assert store.extend(reference_digits[:500])
    assert not store.extend(reference_digits[:100])
    assert len(store) == 500
    assert store.extend(reference_digits[:2000])
    assert store.read(1, 2000) == reference_digits[:2000]


def test_refuses_digits_that_disagree(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:100])
    wrong = reference_digits[:50] + "0" * 150
    with pytest.raises(ValueError):
        store.extend(wrong)
    assert store.read(1, 100) == reference_digits[:100]


def test_stream_gives_pi_to_n_places(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:10_000])
    assert "".join(store.stream(6)) == "3.141592"
    assert "".join(store.stream(10_000, chunk_bytes=333)) == "3." + reference_digits[:10_000]
    with pytest.raises(LookupError):
        store.stream(10_001)


def test_an_interrupted_write_leaves_the_old_prefix(
    store: DigitStore, reference_digits: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.extend(reference_digits[:100])

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.extend(reference_digits[:1000])
    assert store.read(1, 1000) == reference_digits[:100]
    assert [path.name for path in store.folder.iterdir() if path.suffix == ".tmp"] == []


def test_a_killed_writers_temporary_file_is_cleaned_up(store: DigitStore, reference_digits: str) -> None:
    left_behind = store.folder / ".pi-digits-killed.tmp"
    left_behind.write_text(reference_digits[:50])
    store.extend(reference_digits[:100])
    assert not left_behind.exists()
    assert store.read(1, 100) == reference_digits[:100]
