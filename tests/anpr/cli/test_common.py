"""Whatever goes wrong, the user sees one line and a non-zero exit, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

ANPR = str(Path(sys.executable).with_name("anpr"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANPR, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "records database is unreachable"),
        ("nosuchdb://x", "bad database URL"),
    ],
)
def test_database_failures_are_one_line(url, message):
    result = run("challan", "list", "--db", url)
    assert result.returncode == 3
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_help_teaches_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("read", "process", "challan", "serve", "bench", "models", "demo"):
        assert command in result.stdout


def test_help_shows_defaults_and_runs_paragraphs_together():
    """Help is markdown: a docstring's hard line breaks do not break the printed paragraph, and a
    default in square brackets is not taken for markup and dropped."""
    import os

    env = os.environ | {"COLUMNS": "200"}
    result = subprocess.run([ANPR, "process", "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and "[default: out/]" in result.stdout
    read = subprocess.run([ANPR, "read", "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert "(series + number; a Pakistani registration year is reported separately)" in read.stdout


def test_usage_errors_exit_2_without_traceback():
    result = run("read")
    assert result.returncode == 2 and "Missing argument" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_video_detector_setting_is_one_line(tmp_path):
    import os

    site = Path(__file__).resolve().parents[3] / "sample_videos" / "canal-road.yaml"
    env = os.environ | {"ANPR_VIDEO_DETECTOR": "fp16"}
    result = subprocess.run(
        [ANPR, "process", str(site.with_suffix(".mp4")), "--site", str(site), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "ANPR_VIDEO_DETECTOR" in result.stderr and len(result.stderr.strip().splitlines()) == 1
