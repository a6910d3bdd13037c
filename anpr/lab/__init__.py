"""The team's lab: tooling that only the project's engineers run, never a deployment.

- `bench`, `bench_report`, `video_bench`: the accuracy, speed and video benchmarks (`anpr bench ...`);
- `datasets`: loaders for the labelled dev sets in ../shared/datasets (never copied into the project);
- `samples`, `scene`: the sample clips in sample_videos/ and the scene renderer that draws them;
- `synth`: synthetic plates for training and the synthetic bench;
- `train`: the recipes that train the plate reader's line models (models/*.md).

The runtime (anpr/ outside this package) never imports it; it may import the runtime freely."""
