"""Turning files, folders, stdin (and later live clusters and hosts) into documents with locations."""
