"""Foundations every stage may use: settings, durable writes, errors."""
