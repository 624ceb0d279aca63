"""Domain rules: plain functions over models and values. No request, no session
commits (services flush; the view or CLI commits once)."""
