"""营商110: the application package (factory in ``app.factory``, domain core beside it)."""
