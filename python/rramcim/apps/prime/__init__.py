"""PRIME: a spiking network on random memristor conductances with a learned topology."""
