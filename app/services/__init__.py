"""Services: the only code that changes domain state. They flush, never commit."""
