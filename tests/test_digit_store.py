"""The digit store: lookups, growth, downloads, crash safety, and digits verified where they rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compute.digit_store import DigitsDamaged
from compute.digit_store import DigitStore

# Small checksum blocks, so the reference's 10^6 places span many of them.
BLOCK = 1000


@pytest.fixture
def store(tmp_path: Path) -> DigitStore:
    return DigitStore(tmp_path / "digits", block=BLOCK)


def first_bytes(store: DigitStore, places: int) -> str:
    with store.open_text(places) as text:
        return text.read(places + 2).decode("ascii")


def overwrite(store: DigitStore, place: int, data: bytes) -> None:
    """Change the file in place, as a failing disk or a careless hand would."""
    with open(store.path, "r+b") as raw:
        raw.seek(place + 1)  # "3." comes first
        raw.write(data)


def test_empty_store_knows_nothing(store: DigitStore) -> None:
    assert len(store) == 0
    assert not store.covers(1)
    assert store.digit(1) is None
    assert store.read(1, 10) == ""
    assert store.damaged_from() is None


def test_reads_places_counted_from_one(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:10_000])
    assert store.digit(1) == "1"
    assert store.digit(6) == "2"
    assert store.read(762, 6) == "999999"
    assert store.read(9995, 100) == reference_digits[9994:10_000]
    assert store.covers(10_000) and not store.covers(10_001) and not store.covers(0)


def test_only_grows(store: DigitStore, reference_digits: str) -> None:
    assert store.extend(reference_digits[:500])
    assert not store.extend(reference_digits[:100])
    assert len(store) == 500
    assert store.extend(reference_digits[:2500])
    assert store.read(1, 2500) == reference_digits[:2500]


def test_refuses_digits_that_disagree(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:100])
    wrong = reference_digits[:50] + "0" * 150
    with pytest.raises(ValueError, match="disagree"):
        store.extend(wrong)
    assert store.read(1, 100) == reference_digits[:100]


def test_the_file_begins_with_pi_to_n_places(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:10_000])
    assert first_bytes(store, 6) == "3.141592"
    assert first_bytes(store, 10_000) == "3." + reference_digits[:10_000]
    with pytest.raises(LookupError):
        store.open_text(10_001)


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


@pytest.mark.parametrize("damage", [b"0", b"\xff"], ids=["changed-digit", "0xff-byte"])
def test_a_damaged_block_is_never_served_and_is_cut_back(tmp_path: Path, reference_digits: str, damage: bytes) -> None:
    store = DigitStore(tmp_path / "digits", block=BLOCK)
    store.extend(reference_digits[:10_000])
    place = 4321  # in the fifth block, places 4,001 to 5,000
    assert reference_digits[place - 1] != damage.decode("latin-1")
    overwrite(store, place, damage)
    # Another process (a fresh store object) sees the change; so does this one.
    for reader in (DigitStore(tmp_path / "digits", block=BLOCK), store):
        with pytest.raises(DigitsDamaged) as damaged:
            reader.digit(place)
        assert damaged.value.first_bad_place == 4001
        with pytest.raises(DigitsDamaged):
            reader.read(3990, 20)  # a read that only touches the bad block's edge
        with pytest.raises(DigitsDamaged):
            reader.open_text(5000)
        assert reader.read(3001, 1000) == reference_digits[3000:4000]  # the good blocks still serve
    assert store.damaged_from() == 4001
    assert store.repair() == (10_000, 4000)
    assert len(store) == 4000 and store.damaged_from() is None
    assert store.read(1, 4000) == reference_digits[:4000]


def test_a_damaged_store_grows_again(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:10_000])
    overwrite(store, 9_990, b"0" if reference_digits[9_989] != "0" else b"1")  # the last block
    assert store.extend(reference_digits[:20_000])  # the new, proven digits replace the bad block
    assert store.damaged_from() is None
    assert store.read(1, 20_000) == reference_digits[:20_000]


def test_a_damaged_footer_empties_the_store_rather_than_guess(store: DigitStore, reference_digits: str) -> None:
    store.extend(reference_digits[:5000])
    with open(store.path, "r+b") as raw:
        raw.seek(-3, os.SEEK_END)
        raw.write(b"xyz")
    assert len(store) == 0 and store.digit(1) is None
    assert store.extend(reference_digits[:6000])
    assert store.read(1, 6000) == reference_digits[:6000]


def test_digits_stored_without_checksums_are_set_aside(tmp_path: Path, reference_digits: str) -> None:
    folder = tmp_path / "digits"
    folder.mkdir()
    (folder / "pi-digits.txt").write_text(reference_digits[:1000])  # what earlier versions wrote
    store = DigitStore(folder)
    assert len(store) == 0
    assert (folder / "pi-digits.unverified").exists() and not (folder / "pi-digits.txt").exists()
