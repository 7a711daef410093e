"""One line that sums up the highlighted image under a result grid."""

from __future__ import annotations

from rich.text import Text

from anagnorisis_tui.core.base import rating_text
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.state.search_state import format_size


def describe_entry(entry: ImageEntry) -> Text:
    """The highlighted result in one line: name, score, resolution, size, rating."""
    line = Text(entry.name, style="bold")
    if entry.score is not None:
        line.append(f"   score {entry.score:.3f}", style="bold cyan")
    if entry.concept is not None and entry.concept != entry.score:
        line.append(f"   concept {entry.concept:.3f}", style="cyan")
    if entry.width and entry.height:
        mp = entry.width * entry.height / 1e6
        line.append(
            f"   {entry.width}×{entry.height} ({mp:.1f} MP, {entry.width / entry.height:.2f})"
        )
    line.append(f"   {format_size(entry.size)}")
    if entry.rating is not None:
        line.append(f"   rated {rating_text.user_rating(entry.rating)}")
    elif entry.predicted is not None:
        line.append(f"   model predicts {rating_text.prediction(entry.predicted)}", style="italic")
    return line
