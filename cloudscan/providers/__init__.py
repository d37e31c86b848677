"""Provider adapters: enumerate and normalise resources. They read, never write, never judge."""
