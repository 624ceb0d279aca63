"""The meeting blueprint: its views are in views.py, which defines `bp`."""
from .views import bp

__all__ = ["bp"]
