"""Problems: recurring issues found by ticket signatures and sent to engineering with their customer impact."""
