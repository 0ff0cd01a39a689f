"""Detection: policy documents and versions, detectors, ML models, the scan pipeline (issue 11)."""
