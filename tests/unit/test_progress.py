from anagnorisis_tui.core.base.progress import Progress, format_eta


def test_eta_from_average_rate():
    p = Progress("scan", done=25, total=100, elapsed=5.0)
    assert p.rate == 5.0
    assert p.eta == 15.0
    assert p.fraction == 0.25
    assert Progress("scan", done=0, total=None).eta is None
    assert format_eta(None) == "--:--"
    assert format_eta(75) == "01:15"
    assert format_eta(3725) == "1:02:05"
