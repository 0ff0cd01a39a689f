"""The ML classifiers of issue 11: corpus, features, models, artifacts (pure: no Django).

Settings reach this package as plain arguments (a folder, a path); the Django side
(`policies.apps`, the `train_models` command) reads them and passes them in.
"""
