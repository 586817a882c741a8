"""Benchmarks: each runs iotscope side by side with the peer tool its issue names, in one run.

Run one with ``.venv/bin/python -m benchmarks.<name>``; results also go to
``benchmarks/results/<name>.json``.
"""
