"""The whole study as one job: python -m src.pipeline (src/pipeline/__main__.py)."""
