"""Reconciling LM Studio's loaded instances with the profiles."""
