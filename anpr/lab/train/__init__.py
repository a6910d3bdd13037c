"""Training recipes for the project's own models (torch, CPU-friendly). Run them as modules, e.g.
`python -m anpr.lab.train.ocr --out models`; nothing here is imported at inference time."""
