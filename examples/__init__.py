"""Example applications built with duoweb."""
