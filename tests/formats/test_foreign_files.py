"""Files as other tools write them land on the right frames of the project's videos."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actdesk.errors import ActdeskError, FormatError, ProjectError
from actdesk.formats.data import Imported
from actdesk.formats.importing import import_into_project, read_source


def import_file(project, path, **options):
    imported = read_source(path)
    project.execute(import_into_project(project, imported, **options).command)
    return imported


def nearest_boundary(times: np.ndarray, end: float, t: float) -> int:
    return int(np.argmin(np.abs(np.append(times, end) - t)))


def test_boris_7_table_with_preamble_status_column_and_point_events(tmp_path, new_project, segments_of):
    path = tmp_path / "obs1.tsv"
    path.write_text(
        "Observation id\tobs1\nObservation date\t2020-01-01 10:00:00\nDescription\t\nTime offset (s)\t0.000\n\n"
        "Time\tMedia file path\tTotal length\tFPS\tSubject\tBehavior\tBehavioral category\tComment\tStatus\n"
        "0.080\t/home/me/videos/cfr.mp4\t2.00\t25\tMouse\twalk\tmove\t\tSTART\n"
        "0.480\t/home/me/videos/cfr.mp4\t2.00\t25\tMouse\twalk\tmove\t\tSTOP\n"
        "1.000\t/home/me/videos/cfr.mp4\t2.00\t25\tMouse\tsniff\tother\t\tPOINT\n")
    project = new_project()
    assert import_file(project, path).format == "boris"
    assert segments_of(project, "Mouse") == {"cfr.mp4": [(2, 12, "walk", None), (25, 26, "sniff", None)]}


def test_label_studio_upload_names_and_local_files(tmp_path, new_project, segments_of):
    path = tmp_path / "export.json"
    result = {"type": "timelinelabels", "from_name": "videoLabels", "to_name": "video",
              "value": {"ranges": [{"start": 1, "end": 12}, {"start": 20, "end": 20}], "timelinelabels": ["walk"]}}
    tasks = [{"id": 1, "data": {"video": "/data/upload/3/1a2b3c4d-cfr.mp4"}, "annotations": [{"result": [result]}]},
             {"id": 2, "data": {"video_url": "/data/local-files/?d=clips%2Fvfr.mkv"},
              "annotations": [{"was_cancelled": True, "result": [result]}, {"result": [result]}]}]
    path.write_text(json.dumps(tasks))
    project = new_project()
    import_file(project, path)
    assert segments_of(project) == {"cfr.mp4": [(0, 12, "walk", None), (19, 20, "walk", None)],
                                    "vfr.mkv": [(0, 12, "walk", None), (19, 20, "walk", None)]}


def test_activitynet_seconds_go_to_the_nearest_frame_boundary_of_the_pts_index(tmp_path, new_project, segments_of):
    project = new_project()
    vfr = project.video_named("vfr.mkv")
    times = project.frame_times(vfr.id)
    path = tmp_path / "anet.json"
    path.write_text(json.dumps({"version": "1.3", "database": {
        "vfr": {"subset": "validation", "annotations": [{"segment": [0.1, 0.5], "label": "jump"},
                                                        {"segment": [0.71, 9.0], "label": "walk"}]}}}))
    import_file(project, path)
    t = np.asarray(times.times_s)
    first = (nearest_boundary(t, times.end_time_s, 0.1), nearest_boundary(t, times.end_time_s, 0.5))
    assert first != (round(0.1 * 25), round(0.5 * 25))  # not what frame = seconds * fps would give
    assert segments_of(project)["vfr.mkv"] == [(*first, "jump", None),
                                               (nearest_boundary(t, times.end_time_s, 0.71), 40, "walk", None)]


def test_kinetics_whole_seconds_and_video_ids(tmp_path, new_project, segments_of):
    path = tmp_path / "validate.csv"
    path.write_text("label,youtube_id,time_start,time_end,split,is_cc\nwalk,cfr,0,1,validate,0\n")
    project = new_project()
    import_file(project, path)
    assert segments_of(project)["cfr.mp4"] == [(0, 25, "walk", None)]


def test_intervals_that_match_no_video_or_lie_outside_it(tmp_path, new_project):
    project = new_project()
    path = tmp_path / "late.csv"
    path.write_text("label,youtube_id,time_start,time_end,split\nwalk,cfr,1,2,train\nrun,cfr,2.5,3,train\n")
    with pytest.raises(FormatError, match=r"late\.csv:3: run 2\.5\.\.3 s starts at or after the end of video 'cfr'"):
        import_into_project(project, read_source(path))
    path.write_text("label,youtube_id,time_start,time_end,split\nwalk,elsewhere,0,1,train\n")
    with pytest.raises(ProjectError, match="no video named 'elsewhere'"):
        import_into_project(project, read_source(path))
    plan = import_into_project(project, read_source(path), video="vfr.mkv")
    project.execute(plan.command)
    assert plan.segments == 1 and project.segments(project.human_track(project.video_named("vfr.mkv").id).id)

    eaf = tmp_path / "nameless.eaf"
    eaf.write_text('<ANNOTATION_DOCUMENT><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="a" TIME_VALUE="0"/>'
                   '<TIME_SLOT TIME_SLOT_ID="b" TIME_VALUE="100"/></TIME_ORDER><TIER TIER_ID="x"><ANNOTATION>'
                   '<ALIGNABLE_ANNOTATION TIME_SLOT_REF1="a" TIME_SLOT_REF2="b"><ANNOTATION_VALUE>run'
                   '</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION></TIER></ANNOTATION_DOCUMENT>')
    with pytest.raises(ProjectError, match="no video named 'nameless'"):
        import_into_project(project, read_source(eaf))
    data_set = Imported("ucf101", tmp_path, video_files={"a/b.avi": tmp_path / "a" / "b.avi"})
    with pytest.raises(ActdeskError, match="--video applies to annotation files"):
        import_into_project(project, data_set, video="cfr.mp4")
