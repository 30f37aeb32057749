"""Capitalisation: what all the threads teach, as indicators, recommendations and reports for the producers."""
