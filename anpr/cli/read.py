"""`anpr read`: plates in photos (placeholder until the pipeline lands)."""
