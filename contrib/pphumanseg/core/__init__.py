"""Library behind ``pphumanseg train / val / predict / export``: config loading, the training
loop, evaluation, prediction, export and checkpoints."""
