"""A footage job joins the site file to challan's rule registry: the rules it names are checked
against the registry before any frame is read, and the error names the file."""

import subprocess
import sys
from pathlib import Path

from anpr.weights import PROJECT_ROOT

ANPR = str(Path(sys.executable).with_name("anpr"))
SAMPLES = PROJECT_ROOT / "sample_videos"


def test_a_site_naming_a_rule_the_registry_lacks_is_one_line_naming_the_file(tmp_path):
    text = (SAMPLES / "regal-chowk.yaml").read_text()
    site = tmp_path / "site.yaml"
    site.write_text(text + "rules: [OVER_SPEED, NO_HELMET]\n")
    (tmp_path / "regal-chowk.signal.csv").write_text((SAMPLES / "regal-chowk.signal.csv").read_text())
    result = subprocess.run(
        [ANPR, "process", str(SAMPLES / "regal-chowk.mp4"), "--site", str(site), "--no-store"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {site}: rules: unknown rule NO_HELMET (known: OVER_SPEED, RED_LIGHT, STOP_LINE, WRONG_WAY)"
    ]
