"""Speed studies: time and memory of the pipeline's stages, caches and commands."""
