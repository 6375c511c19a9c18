"""Who is calling: users (borrowers and staff) with passwords and roles, the API keys of
services, access and refresh tokens, and the borrower's link to the accounts they hold."""
