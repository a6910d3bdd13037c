"""`anpr process ... > vehicles.txt` as a user at a terminal runs it: the vehicles on stdout, the
progress bar and the closing count on stderr, which is a terminal (a pseudo-terminal here), since
that is when rich draws a live bar and would take stdout over."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ANPR = str(Path(sys.executable).with_name("anpr"))
SAMPLES = Path(__file__).resolve().parents[3] / "sample_videos"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
VEHICLE_LINE = re.compile(r"#\d+ \w+ .+ \d\d:\d\d:\d\d: (no violation|[A-Z_]+(, [A-Z_]+)*)")


def run_with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, the text the terminal on stderr showed, without its escape codes)."""
    master, slave = pty.openpty()
    shown = bytearray()

    def drain() -> None:  # a full pty would stall the command
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the command has gone and the slave side is closed
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = subprocess.run([ANPR, *args], stdout=subprocess.PIPE, stderr=slave, text=True, timeout=600)
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return result.returncode, result.stdout, ANSI.sub("", shown.decode("utf-8", "replace"))


@pytest.mark.slow
def test_vehicles_go_to_stdout_and_progress_to_stderr(tmp_path):
    clip, site = SAMPLES / "regal-chowk.mp4", SAMPLES / "regal-chowk.yaml"
    code, out, shown = run_with_terminal_stderr(
        "process", str(clip), "--site", str(site), "--no-store", "--out", str(tmp_path / "out")
    )
    assert code == 0, shown
    lines = out.splitlines()
    assert lines and all(VEHICLE_LINE.fullmatch(line) for line in lines), (lines, shown)
    assert not VEHICLE_LINE.search(shown)
    assert "/80 frames" in shown and f"{len(lines)} vehicles, " in shown
