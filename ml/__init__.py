"""Synthetic data, features, link model and evaluation."""
