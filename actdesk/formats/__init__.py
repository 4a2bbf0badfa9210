"""Import and export of segment annotations and training sets."""
