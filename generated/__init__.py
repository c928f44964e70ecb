"""Generated clients, one subpackage per provider (see scripts/generate.py)."""
