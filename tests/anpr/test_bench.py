"""The benchmark's tallies: exact reads against the published label and against the correction."""

from anpr.bench import Tally, calibration


def test_tally_scores_published_labels_and_corrections_apart():
    tally = Tally()
    tally.add(["all", "eu"], "RKO26AJ", "RK026AJ", 0.9, printed="RK026AJ")  # label wrong, read right
    tally.add(["all", "eu"], "RK248AH", "RK248AH", 0.95)  # no correction: both count it
    tally.add(["all", "us"], "7EAV033", "7FAV033", 0.4)  # a real misread counts against both
    assert tally.accuracy("all") == 1 / 3
    assert tally.accuracy("all", corrected=True) == 2 / 3
    assert tally.accuracy("eu", corrected=True) == 1.0
    assert tally.confusions == {"O->0": 1, "E->F": 1}
    rows = {label: (n, acc) for label, n, acc in calibration(tally.scored)}
    assert rows["0.00-0.50"] == (1, 0.0) and rows["0.90-0.95"] == (1, 0.0)
