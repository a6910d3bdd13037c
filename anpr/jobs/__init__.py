"""Where anpr is joined to challan: the one place, outside the CLI, where the vision pipeline (anpr)
meets the rules and the records (challan). Everything else in anpr/ stays free of the database, and
challan/ never runs a model.

- `footage`: one footage job (a video, a folder of frames or a stream) through the pipeline, the
  site's rules and the records, as `anpr process` and the batch workers both run it;
- `workers`: the Celery app, job ids and retry policy behind `anpr batch` and `anpr worker`;
- `demo`: `anpr demo`'s run on the project's own sample clip."""
