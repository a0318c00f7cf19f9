"""Benchmarks of a trained editor, above the editing layer: ``photos`` (real photographs, ``lsgan eval photos``)."""
