"""Analyses: questions answered over the model (matrix, explain, diff, scan...)."""
