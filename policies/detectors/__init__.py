"""The detectors: pure functions from batches of texts to findings (no Django, no database).

Every detector takes a batch (never one message per call on the hot path: the costly steps, such
as vectorizing for the classifiers, are shared across the batch) and returns, for each text, the
findings in `findings.Finding` form.
"""
