"""Developer tools that stay outside the wheel (the README generator)."""
