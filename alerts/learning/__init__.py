"""The learning loop's alerts side (issue 12, "Learning"): closed alerts as the firm's labelled
examples, an admin's exclusions, the pages to retrain, compare and promote the firm's model, and
per-policy false-positive rates. The training itself is policies' (policies/learning.py)."""
