"""Benchmarks of trained editors and models, above the editing layer: ``photos`` (real photographs, ``lsgan eval
photos``) and ``models`` (model bundles on SynthFACS test pairs, ``lsgan eval --models ... --data ...``)."""
