"""Terminal plots for the Train screen (textual-plotext): learning curves and rating histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual_plotext import PlotextPlot


class CurvesPlot(PlotextPlot):
    """Training and validation loss per epoch (or per step) of the chosen model."""

    def on_mount(self) -> None:
        self.show_curves({})

    def show_curves(self, curves: Mapping[str, Sequence[float]], *, title: str = "") -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title or "learning curves")
        plt.xlabel("epoch")
        plt.ylabel("loss")
        drawn = False
        markers = {"train": "braille", "validation": "braille"}
        colors = ["cyan", "orange", "green", "magenta"]
        for i, (name, values) in enumerate(curves.items()):
            values = [float(v) for v in values]
            if not values:
                continue
            xs = list(range(1, len(values) + 1))
            plt.plot(
                xs, values, label=name, marker=markers.get(name, "braille"), color=colors[i % 4]
            )
            drawn = True
        if not drawn:
            plt.title("learning curves: train the evaluator to see them")
        self.refresh()


def histogram_counts(values: Sequence[float], bins: int = 11) -> list[int]:
    """Counts of values rounded to whole ratings 0..10."""
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(round(float(v)))))] += 1
    return counts


class RatingsHistogram(PlotextPlot):
    """How the user's ratings and the model's predictions spread over 0..10, side by side."""

    def on_mount(self) -> None:
        self.show_ratings([], [])

    def show_ratings(self, user: Sequence[float], model: Sequence[float]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        labels = [str(i) for i in range(11)]
        if not user and not model:
            plt.title("ratings: none yet")
        else:
            plt.title(f"ratings: yours ({len(user)}) vs model ({len(model)})")
            plt.multiple_bar(
                labels,
                [histogram_counts(user), histogram_counts(model)],
                labels=["yours", "model"],
                color=["cyan", "orange"],
            )
        plt.xlabel("rating")
        self.refresh()
