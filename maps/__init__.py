"""The shipped mine maps (GeoJSON data) and, in ``maps.generator``, the code that writes them and generates more.

The folder is data to the installed package (pyproject force-includes it); the generator is a tool run from a
source tree: ``python -m maps.generator shipped`` or ``python -m maps.generator random ...``.
"""
