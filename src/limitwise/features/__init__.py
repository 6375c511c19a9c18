"""Every policy feature, from the application's facts or the book, as of a business date."""
