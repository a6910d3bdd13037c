"""Plate readers. `get_reader` picks one by name; "auto" is the project's trained recognizer when
its weights are present, else RapidOCR."""

from __future__ import annotations

from anpr.ocr.base import PlateReader

READERS = ("auto", "crnn", "rapidocr", "easyocr")


def get_reader(name: str = "auto") -> PlateReader:
    if name not in READERS:
        from anpr.errors import ConfigError

        raise ConfigError(f"unknown reader '{name}'; choose one of {', '.join(READERS)}")
    if name == "auto":
        from anpr.weights import load_manifest

        name = "crnn" if "plate-reader-crnn" in load_manifest() else "rapidocr"
    if name == "crnn":
        from anpr.ocr.crnn import CrnnReader

        return CrnnReader()
    if name == "easyocr":
        from anpr.ocr.easy import EasyOcrReader

        return EasyOcrReader()
    from anpr.ocr.rapid import RapidOcrReader

    return RapidOcrReader()
