"""daemon_check's clip cutting and start/end simulation, on made-up frames and scores."""
import numpy as np

from msta.daemon_check import starts, windows

IDLE, A, B = 0, 1, 2


def test_windows_cut_like_the_daemon():
    frames = np.arange(75)[:, None, None, None].astype(np.uint8) * np.ones((1, 2, 2, 3), np.uint8)  # 3 s at 25 fps
    ws = windows(frames, 25.0, 8, 160.0, stride=2)
    # samples at 0, 0.16, ... 2.88 s (19); clips of 8 every 2 samples: first samples 0, 2, ..., 10.
    assert [round(w.start_s, 2) for w in ws] == [0.0, 0.32, 0.64, 0.96, 1.28, 1.6]
    assert all(abs(w.end_s - w.start_s - 1.12) < 1e-9 for w in ws)
    # The latest frame at each sampling instant: 0.16 s is frame 4 at 25 fps.
    assert ws[0].frames[:, 0, 0, 0].tolist() == [0, 4, 8, 12, 16, 20, 24, 28]


def probs(*rows):
    return np.array(rows, dtype=float)


def test_an_action_starts_after_two_clips_and_once():
    p = probs([0.9, 0.05, 0.05], [0.1, 0.85, 0.05], [0.05, 0.9, 0.05], [0.05, 0.9, 0.05], [0.9, 0.05, 0.05],
              [0.9, 0.05, 0.05])
    # EMA 0.5: A is 0.05, 0.45, 0.675, 0.79: at or above the start threshold (0.5) on clips 2 and 3.
    assert starts(p, IDLE) == [(A, 3)]


def test_a_dip_below_the_end_threshold_starts_the_action_again():
    high, low = [0.05, 0.9, 0.05], [0.9, 0.05, 0.05]
    p = probs(high, high, high, low, low, high, high, high)
    assert [label for label, _ in starts(p, IDLE)] == [A, A]


def test_the_background_never_starts_and_a_new_label_switches():
    a, b = [0.0, 0.95, 0.05], [0.0, 0.05, 0.95]
    assert starts(probs(*[[1, 0, 0]] * 5), IDLE) == []
    assert [label for label, _ in starts(probs(a, a, a, b, b, b), IDLE)] == [A, B]
