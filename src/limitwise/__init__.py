"""limitwise: consumer revolving credit lines, decided and explained."""

__version__ = "0.1.0"
