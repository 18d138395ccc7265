"""Smart Graphic Designer: the shared package every Lambda function loads from the common layer."""

__version__ = "0.1.0"
