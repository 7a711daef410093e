"""Terminal plots for the Train screen (textual-plotext): learning curves and rating histograms."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from textual_plotext import PlotextPlot


class CurvesPlot(PlotextPlot):
    """Training and validation loss per epoch (or per step) of the chosen model."""

    def on_mount(self) -> None:
        self.show_curves({})

    def show_curves(
        self,
        curves: Mapping[str, Sequence[float]],
        *,
        x: Sequence[float] = (),
        xlabel: str = "epoch",
        title: str = "",
    ) -> None:
        """Each named curve against `x` (epochs, or ridge alphas on a log axis)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title or "learning curves")
        plt.xlabel(xlabel)
        plt.ylabel("MSE")
        log_x = "log" in xlabel
        colors = {"train": "cyan", "validation": "orange"}
        drawn = False
        for name, values in curves.items():
            ys = [float(v) for v in values]
            if not ys:
                continue
            xs = (
                [float(v) for v in x][: len(ys)]
                if len(x) >= len(ys)
                else list(range(1, len(ys) + 1))
            )
            if log_x:
                xs = [math.log10(v) for v in xs]
            plt.plot(xs, ys, label=name, marker="braille", color=colors.get(name, "green"))
            drawn = True
        if log_x:
            plt.xlabel(xlabel.replace("(log scale)", "").strip() + " (log10)")
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
                # plotext's own hints name one label and one colour; it takes one per series.
                labels=["yours", "model"],  # type: ignore[call-arg]
                color=["cyan", "orange"],  # type: ignore[arg-type]
            )
        plt.xlabel("rating")
        self.refresh()
