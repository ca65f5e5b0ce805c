"""`python -m bench.soak`: a bounded soak of the embedded stack under random `kill -9`s.

Run on demand only: not in CI, not in `make bench`'s default list (bench/__main__.py).
"""
