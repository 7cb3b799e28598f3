"""The pygame map view: draws snapshots, sends commands, never reaches into the simulation (docs/architecture.md,
"View").

``App`` renders onto an off-screen ``pygame.Surface`` and opens a window only in ``App.run``, so every picture
can be produced (and tested) without a display. It reads ``fleet.snapshot.Snapshot`` and steers through
``fleet.control.Controller`` or ``view.replay.ReplaySource``, which share the small ``view.source.Source``
interface.
"""

from __future__ import annotations

import os

# pygame prints a banner on import; the view's output should be the simulation's, not the library's.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
