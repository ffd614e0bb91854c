"""Ringwall: defense in depth for Kubernetes and Linux networks, computed instead of drawn."""

__version__ = "0.1.0"
