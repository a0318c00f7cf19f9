"""One module per training stage: what a step trains, how it is scored, what its preview shows."""
