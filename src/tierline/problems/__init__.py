"""Problems: recurring issues found by ticket signatures, sent to engineering with their customer impact."""
