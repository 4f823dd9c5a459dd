import pytest

from pphumanseg.utils.atomic_write import atomic_write, atomic_write_text


def test_writes_through_a_temporary_name_and_creates_the_folder(tmp_path):
    target = tmp_path / "new" / "result.json"
    atomic_write_text(str(target), "{}")
    assert target.read_text() == "{}"
    assert [p.name for p in target.parent.iterdir()] == ["result.json"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "mask.png"
    target.write_text("old")

    def failing_writer(temporary):
        with open(temporary, "w") as handle:
            handle.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(str(target), failing_writer)
    with pytest.raises(OSError, match="cannot write"):
        atomic_write(str(target), lambda temporary: False)  # cv2.imwrite's way of failing
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["mask.png"]
