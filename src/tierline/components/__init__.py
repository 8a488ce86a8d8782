"""The system-architecture tree: components with owning and supporting teams."""
