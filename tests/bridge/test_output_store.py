"""An execution's stored output: files made with their first bytes, on disk as it comes, and a disk that fails
costs no task."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from cc_executor.bridge.output_store import OutputStore, read_page


def store_in(outputs: Path) -> OutputStore:
    return OutputStore(outputs / str(uuid.uuid4()), max_bytes=1 << 20)


def test_a_stream_file_is_made_with_its_first_bytes(tmp_path):
    store = store_in(tmp_path / "outputs")
    assert not store.directory.exists(), "nothing is made before output comes"
    store.append("stdout", "hello\n")
    store.close()
    assert sorted(path.name for path in store.directory.iterdir()) == ["stdout.txt"]
    assert read_page(store.path("stdout"), 0, 100)[0] == "hello\n"
    assert read_page(store.path("stderr"), 0, 100) == ("", 0, 0), "a stream that wrote nothing reads as empty"
    assert (store.directory.stat().st_mode & 0o777) == 0o700
    assert (store.path("stdout").stat().st_mode & 0o777) == 0o600


def test_output_that_cannot_be_stored_is_marked_truncated_and_logged_once(tmp_path, caplog):
    blocked = tmp_path / "outputs"
    blocked.write_text("a file where the outputs folder should be")
    store = store_in(blocked)
    with caplog.at_level(logging.WARNING, logger="cc_executor.bridge"):
        store.append("stdout", "one\n")
        store.append("stderr", "two\n")
        store.set_result("the answer")
        store.close()
    assert store.truncated and store.write_error is not None
    assert store.stderr_tail == "two\n", "what is kept in memory is kept all the same"
    assert [record.message for record in caplog.records] == ["output not stored"]


def test_output_is_on_disk_as_it_comes_not_when_the_task_ends(tmp_path):
    """Nothing is left to write between a process's exit and its result, and a page read while it runs is whole."""
    store = store_in(tmp_path / "outputs")
    store.append("stdout", "first line\n")
    store.note("a step")
    assert read_page(store.path("stdout"), 0, 100)[0] == "first line\n"
    assert read_page(store.path("transcript"), 0, 100)[0] == "a step\n"
    store.append("stdout", "x" * 100_000)
    assert read_page(store.path("stdout"), 0, 200_000)[2] == 100_011
    store.close()
    store.close()  # twice is harmless
