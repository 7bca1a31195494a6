"""Side-by-side benchmark of searchsvc and baseline engines: run `python -m bench`."""
