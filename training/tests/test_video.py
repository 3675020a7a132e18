"""Decoding like the daemon: scale the shorter side to the model size, centre-crop, RGB; sample the
latest frame at each instant; and the renderer's centre window matches what decoding produces."""
import numpy as np

from msta import synth, video


def test_scale_and_centre_crop_of_a_non_square_file(tmp_path):
    frames = np.full((5, 120, 160, 3), 128, np.uint8)
    frames[:, :, :16] = (255, 0, 0)  # outside the centre square (x 20..140): cropped away
    frames[:, :, 144:] = (0, 0, 255)
    frames[:, 10:50, 30:70] = (0, 200, 0)  # top-left of the centre square
    path = tmp_path / "c.mp4"
    synth.write_mp4(path, frames)
    decoded, fps = video.decode(path, 64)
    assert decoded.shape == (5, 64, 64, 3) and fps == 25
    f = decoded[2].astype(int)
    assert f[:, :2, 0].max() < 160 and f[:, -2:, 2].max() < 160  # no red / blue edge bands
    assert f[15, 15, 1] > 150 and f[15, 15, 0] < 60  # the green marker, top-left, in RGB order
    assert abs(f[50, 50] - 128).max() < 12


def test_latest_frame_sampling():
    frames = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    picked = video.sample(frames, 25.0, np.array([0.0, 0.039, 0.04, 0.161, 9.0]))
    assert picked[:, 0, 0, 0].tolist() == [0, 0, 1, 4, 9]


def test_rendered_centre_window_matches_the_decoded_file(tmp_path):
    rng = np.random.default_rng(0)
    scene = synth.scene_for_label(rng, "red ball moving right", 1.0)
    synth.write_mp4(tmp_path / "s.mp4", synth.render_clip(scene, rng))
    decoded, fps = video.decode(tmp_path / "s.mp4", 64)
    for t in (0.0, 0.48, 0.96):
        direct = synth.render(scene, t, 64, 64, synth.centre_window()).astype(int)
        from_file = video.sample(decoded, fps, np.array([t]))[0].astype(int)
        assert np.abs(direct - from_file).mean() < 6  # codec + resampling, not geometry
