"""The four workloads: train, map, evaluate and export golden data for each."""
