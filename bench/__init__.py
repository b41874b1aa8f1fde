"""Benchmarks: a seeded corpus generator and the measurement run (`make bench`)."""
