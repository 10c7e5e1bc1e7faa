"""Chains and graphs with unknowns (`cnnplan plan`): counted exactly, the best ranked."""
