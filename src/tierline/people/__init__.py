"""People: agent profiles (skills, capacity, availability) and teams. Identity lives in platform.auth."""
