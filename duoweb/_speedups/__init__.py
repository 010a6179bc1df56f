"""Compiled (Cython) twins of duoweb's hot-path modules; see duoweb._select for the choice."""
