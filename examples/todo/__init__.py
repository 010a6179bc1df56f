"""A todo-list JSON API on SQLite: the application docs/tutorial.md builds step by step."""
