"""Built-in policies (JSON Schema files); this package only carries the data."""
