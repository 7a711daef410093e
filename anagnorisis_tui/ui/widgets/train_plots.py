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


def _shares(counts: list[int]) -> list[float]:
    total = sum(counts)
    return [round(100.0 * c / total, 1) if total else 0.0 for c in counts]


class RatingsHistogram(PlotextPlot):
    """How the user's ratings and the model's predictions spread over 0..10, side by side."""

    def on_mount(self) -> None:
        self.show_counts([], [])

    def show_counts(self, user: Sequence[int], model: Sequence[int]) -> None:
        """Counts per whole rating 0..10: the user's ratings and the model's predictions."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        labels = [str(i) for i in range(11)]
        user = (list(user) + [0] * 11)[:11]
        model = (list(model) + [0] * 11)[:11]
        if not any(user) and not any(model):
            plt.title("ratings: none yet")
        else:
            # Shares, not counts: predictions cover the whole library, ratings a few hundred.
            plt.title(f"% per rating: yours ({sum(user)}) vs the model's ({sum(model)})")
            plt.multiple_bar(
                labels,
                [_shares(user), _shares(model)],
                labels=["yours", "model"],
                color=["cyan", "orange"],
            )
        plt.xlabel("rating")
        self.refresh()
