"""The accelerator package's user-facing errors, in a module that loads nothing heavy: a command catches them
without importing onnx (docs/architecture.md, "Edge")."""


class GraphError(ValueError):
    """A model that cannot be costed: unreadable, a symbolic dim other than batch, or a failed inference."""
