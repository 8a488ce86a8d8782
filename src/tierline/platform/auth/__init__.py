"""Identity: users, API tokens and web sessions. Teams and agent profiles live in the people domain."""
