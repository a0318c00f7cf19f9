"""lsgan: semantic prior guided fine-grained facial expression manipulation (Xue, Yan, Zheng, Liu, 2024)."""

__version__ = "0.1.0"
