"""What test modules share that is not a fixture: stand-ins, clients and helpers (importable as ``support.*``)."""
