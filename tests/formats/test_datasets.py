"""Miniature UCF101, UCF50 and HMDB51 folders (tiny generated videos) import with their official splits."""

from __future__ import annotations

import pytest
from videos import make_video

from actdesk.cli import main
from actdesk.core.project import Project
from actdesk.errors import FormatError
from actdesk.formats.importing import recorded_splits, read_source

_made = iter(range(1, 10_000))


def tiny_video(path):
    """A few frames; each video gets its own length, so no two share content (projects dedupe by content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_video(path, frames=2 + next(_made) % 60, size=(32, 24), codec="mpeg4")


def imported_videos(project_path) -> dict[str, tuple]:
    """Video path (relative to the data set) -> (label, whole-video segment?, recorded splits)."""
    out = {}
    with Project.open(project_path, readonly=True) as project:
        for video in project.videos():
            (segment,) = project.segments(project.human_track(video.id).id)
            covers = (segment.start_frame, segment.end_frame) == (0, video.frame_count)
            relative = "/".join(video.path.split("/")[-2:])
            out[relative] = (segment.label, covers, recorded_splits(project, video.id))
    return out


@pytest.fixture
def ucf101(tmp_path):
    root = tmp_path / "UCF101"
    for cls in ("ApplyEyeMakeup", "Basketball"):
        for g, c in ((1, 1), (1, 2), (2, 1), (3, 1)):
            tiny_video(root / "UCF-101" / cls / f"v_{cls}_g{g:02d}_c{c:02d}.avi")
    lists = root / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\r\n2 Basketball\r\n")  # the originals have CRLF ends
    for n, test_group in ((1, 1), (2, 2)):
        train, test = [], []
        for index, cls in ((1, "ApplyEyeMakeup"), (2, "Basketball")):
            for g, c in ((1, 1), (1, 2), (2, 1), (3, 1)):
                name = f"{cls}/v_{cls}_g{g:02d}_c{c:02d}.avi"
                (test.append(name) if g == test_group else train.append(f"{name} {index}"))
        (lists / f"trainlist0{n}.txt").write_text("\r\n".join(train) + "\r\n")
        (lists / f"testlist0{n}.txt").write_text("\r\n".join(test) + "\r\n")
    return root


def test_ucf101_layout_imports_one_segment_per_video_with_official_splits(tmp_path, ucf101, capsys):
    project = tmp_path / "p.actdesk"
    assert main(["project", "new", str(project)]) == 0
    assert main(["import", str(project), str(ucf101)]) == 0
    out = capsys.readouterr().out
    assert "(ucf101)" in out and "added 8 videos" in out and "recorded split sets 1, 2" in out
    videos = imported_videos(project)
    assert len(videos) == 8
    assert videos["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c02.avi"] == ("ApplyEyeMakeup", True,
                                                                     {"1": "test", "2": "train"})
    assert videos["Basketball/v_Basketball_g02_c01.avi"] == ("Basketball", True, {"1": "train", "2": "test"})
    assert videos["Basketball/v_Basketball_g03_c01.avi"] == ("Basketball", True, {"1": "train", "2": "train"})
    assert all(covers for _, covers, _ in videos.values())
    with Project.open(project, readonly=True) as p:
        assert [label.name for label in p.labels()] == ["ApplyEyeMakeup", "Basketball"]


def test_ucf101_list_problems_name_file_and_line(ucf101):
    lists = ucf101 / "ucfTrainTestlist"
    (lists / "trainlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 2\n")
    with pytest.raises(FormatError, match=r"trainlist01\.txt:1: class index 2 is not 'ApplyEyeMakeup'"):
        read_source(ucf101)
    (lists / "trainlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 1\nJuggling/v_x.avi 3\n")
    with pytest.raises(FormatError, match=r"trainlist01\.txt:2: 'Juggling/v_x\.avi' is not in the folder of a class"):
        read_source(ucf101)
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\nBasketball\n")
    with pytest.raises(FormatError, match=r"classInd\.txt:2: expected '<class index> <class name>'"):
        read_source(ucf101)


def test_ucf50_groups_give_leave_one_group_out_splits(tmp_path, capsys):
    root = tmp_path / "UCF50"
    for cls in ("Biking", "Diving"):
        for g in (1, 2, 3):
            tiny_video(root / cls / f"v_{cls}_g{g:02d}_c01.avi")
    project = tmp_path / "p.actdesk"
    assert main(["project", "new", str(project)]) == 0
    assert main(["import", str(project), str(root)]) == 0
    assert "(ucf50)" in capsys.readouterr().out
    videos = imported_videos(project)
    assert len(videos) == 6
    assert videos["Diving/v_Diving_g02_c01.avi"] == ("Diving", True, {"1": "train", "2": "test", "3": "train"})
    assert videos["Biking/v_Biking_g01_c01.avi"] == ("Biking", True, {"1": "test", "2": "train", "3": "train"})

    tiny_video(root / "Biking" / "holiday.avi")
    with pytest.raises(FormatError, match=r"holiday\.avi: expected a UCF50 video name"):
        read_source(root, "ucf50")


def test_hmdb51_split_files_1_train_2_test_0_unused(tmp_path, capsys):
    root = tmp_path / "hmdb51"
    names = {"brush_hair": ["April_09_brush_hair_u_nm_np1_ba_goo_0.avi", "Brushing_hair_h_nm_np1_le_goo_1.avi"],
             "cartwheel": ["Cartwheel_f_cm_np1_ri_med_0.avi", "Cartwheel_f_cm_np1_le_bad_1.avi"]}
    codes = {1: ("1", "2"), 2: ("2", "0")}  # split set -> code of the first and the second video of each class
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    for cls, videos in names.items():
        for video in videos:
            tiny_video(root / "hmdb51_org" / cls / video)
        for n, (first, second) in codes.items():
            (splits / f"{cls}_test_split{n}.txt").write_text(f"{videos[0]} {first} \n{videos[1]} {second} \n")
    project = tmp_path / "p.actdesk"
    assert main(["project", "new", str(project)]) == 0
    assert main(["import", str(project), str(root)]) == 0
    assert "(hmdb51)" in capsys.readouterr().out
    videos = imported_videos(project)
    assert videos == {
        "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi": ("brush_hair", True, {"1": "train", "2": "test"}),
        "brush_hair/Brushing_hair_h_nm_np1_le_goo_1.avi": ("brush_hair", True, {"1": "test", "2": "unused"}),
        "cartwheel/Cartwheel_f_cm_np1_ri_med_0.avi": ("cartwheel", True, {"1": "train", "2": "test"}),
        "cartwheel/Cartwheel_f_cm_np1_le_bad_1.avi": ("cartwheel", True, {"1": "test", "2": "unused"}),
    }

    (splits / "cartwheel_test_split2.txt").write_text("Cartwheel_f_cm_np1_ri_med_0.avi 3\n")
    with pytest.raises(FormatError, match=r"cartwheel_test_split2\.txt:1: expected '<video file> <0\|1\|2>'"):
        read_source(root)
