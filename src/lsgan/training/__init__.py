"""Staged training (smg → aae → aux → lsgan) on one process or under ``torchrun`` (DDP).

``pipeline.train(stage_or_all, config, run_dir, resume=..., budget=...)`` is what ``lsgan train`` calls;
``loop`` runs one stage (data order, budget, logging, evaluation, checkpoints); ``stages/`` says what a step of
each stage does; ``checkpoint`` writes safetensors checkpoints atomically and restores them exactly.

Run dir layout: ``config.yaml``, ``<stage>/checkpoint.safetensors``, ``<stage>/losses.jsonl``,
``<stage>/metrics.json``, ``<stage>/tensorboard/``, and at the end ``bundle/`` (the model bundle the editor
loads) and ``metrics.json`` (final test metrics of every stage).
"""
