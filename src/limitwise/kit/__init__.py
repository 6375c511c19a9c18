"""Small, boring helpers shared by every domain: money, clock, ids, settings, db, errors."""
