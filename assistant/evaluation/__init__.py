"""Offline evaluations: ranking metrics, CF hold-outs, labelled requests, fairness."""
