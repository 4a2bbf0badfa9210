"""Malformed files raise FormatError naming the file, the line and what was expected."""

from __future__ import annotations

import pytest

from actdesk.cli import main
from actdesk.errors import FormatError
from actdesk.formats.importing import read_source

BORIS_HEADER = "Observation id\tSubject\tBehavior\tBehavior type\tTime\tMedia file name\n"
EAF_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT FORMAT="3.0">\n'
            '<HEADER TIME_UNITS="milliseconds"/>\n<TIME_ORDER>\n<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/>\n'
            '<TIME_SLOT TIME_SLOT_ID="ts2"/>\n</TIME_ORDER>\n<TIER TIER_ID="human">\n<ANNOTATION>\n')
EAF_TAIL = "</ANNOTATION>\n</TIER>\n</ANNOTATION_DOCUMENT>\n"


def eaf(annotation: str) -> str:
    return EAF_HEAD + annotation + EAF_TAIL


# (format, file name, content, line of the error, words the message must hold)
CASES = [
    ("csv", "rows.csv", "video,start_frame,end_frame,start_s,end_s,label,confidence,source\n"
                        "a.mp4,0,5,0,0.2,walk,,human\na.mp4,five,9,0,0,run,,human\n", 3, "must be integers"),
    ("csv", "rows.csv", "video,start,end\n", 1, "header lacks column(s) start_frame"),
    ("elan", "bad.eaf", EAF_HEAD + "<oops>\n" + EAF_TAIL, 11, "not well-formed XML: mismatched tag"),
    ("elan", "bad.eaf", eaf('<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts9">'
                            "<ANNOTATION_VALUE>walk</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION>\n"),
     10, "'ts9' is not a TIME_SLOT"),
    ("elan", "bad.eaf", eaf('<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">'
                            "<ANNOTATION_VALUE>walk</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION>\n"),
     10, "has no TIME_VALUE"),
    ("elan", "bad.eaf", eaf('<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1">'
                            "<ANNOTATION_VALUE>walk</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION>\n"),
     10, "lacks the attribute TIME_SLOT_REF2"),
    ("elan", "bomb.eaf", '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n<ANNOTATION_DOCUMENT/>\n',
     2, "(DTDs) are not accepted"),
    ("elan", "other.eaf", '<?xml version="1.0"?>\n<html/>\n', 2, "expected an ELAN document"),
    ("boris", "events.tsv", BORIS_HEADER + "o\t\twalk\tSTART\t0.5\ta.mp4\no\t\trun\tSTOP\t1.0\ta.mp4\n",
     3, "STOP of 'run' without a START"),
    ("boris", "events.tsv", BORIS_HEADER + "o\t\twalk\tSTART\t0.5\ta.mp4\no\t\twalk\tSTART\t1.0\ta.mp4\n",
     3, "the START at line 2 has no STOP"),
    ("boris", "events.tsv", BORIS_HEADER + "o\t\twalk\tSTART\t0.5\ta.mp4\n", 2, "START of 'walk' has no STOP"),
    ("boris", "events.tsv", BORIS_HEADER + "o\t\twalk\tBEGIN\t0.5\ta.mp4\n", 2, "expected START, STOP or POINT"),
    ("boris", "events.tsv", BORIS_HEADER + "o\t\twalk\tSTART\tsoon\ta.mp4\n", 2, "Time must be a number"),
    ("boris", "events.tsv", "Observation id\tBehavior\tTime\n", 1, "lacks the START/STOP column"),
    ("label-studio", "tasks.json", '[\n {"data": {"video": "a.mp4"},\n  "annotations": [\n   {"result": [\n'
                                   '    {"type": "timelinelabels",\n     "value": {"ranges": [{"start": 0, "end": 4}],'
                                   ' "timelinelabels": ["walk"]}}]}]}]\n', 6, "frames count from 1"),
    ("label-studio", "tasks.json", '[{"data": {"video": "a.mp4"},\n "annotations": [{"result": [\n'
                                   '  {"type": "timelinelabels", "value": {"ranges": [{"start": 1}]}}]}]}]\n',
     3, "missing 'timelinelabels'"),
    ("label-studio", "tasks.json", '[{"data": {"video": "a.mp4"}\n  "annotations": []}]\n', 2, "not valid JSON"),
    ("activitynet", "anet.json", '{"database": {\n "v1": {"subset": "training", "annotations": [\n'
                                 '   {"segment": [1.0], "label": "walk"}]}}}\n', 3, "segment must be [start, end]"),
    ("activitynet", "anet.json", '{"database": {\n "v1": {"subset": "training", "annotations": [\n'
                                 '   {"segment": [2.0, 1.0], "label": "walk"}]}}}\n', 3, "ends before it starts"),
    ("activitynet", "anet.json", '{"database": {\n "v1": {"subset": "holiday", "annotations": []}}}\n',
     2, "subset 'holiday'"),
    ("kinetics-csv", "train.csv", "label,youtube_id,time_start,time_end,split\nwalk,abc,4,2,train\n", 2,
     "time_end 2 must be after time_start 4"),
    ("kinetics-csv", "train.csv", "label,youtube_id,time_start,time_end,split\nwalk,abc,0,2,train\n"
                                  "run,abc,2,4,test\n", 3, "a video must lie in one split"),
    ("kinetics-csv", "train.csv", "label,youtube_id,time_start,time_end,split\na/b,abc,0,2,train\n", 2,
     "forbidden character '/'"),
]


@pytest.mark.parametrize("fmt, name, content, line, words", CASES,
                         ids=[f"{c[0]}-{c[4][:24]}" for c in CASES])
def test_malformed_file_names_file_line_and_expectation(fmt, name, content, line, words, tmp_path):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError) as error:
        read_source(path, fmt)
    assert error.value.path == str(path) and error.value.line == line, str(error.value)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert words in str(error.value)


def test_malformed_lists_of_data_sets(tmp_path):
    (tmp_path / "labels.txt").write_text("walk\nrun\nwalk\n")
    (tmp_path / "train_list_videos.txt").write_text("walk/a.mp4 0\n")
    with pytest.raises(FormatError, match=r"labels\.txt:3: label 'walk' is listed twice \(first on line 1\)"):
        read_source(tmp_path, "mmaction")
    (tmp_path / "labels.txt").write_text("walk\nrun\n")
    (tmp_path / "train_list_videos.txt").write_text("walk/a.mp4 0\nwalk/b.mp4\n")
    with pytest.raises(FormatError, match=r"train_list_videos\.txt:1: 'walk/a\.mp4': no such video file"):
        read_source(tmp_path, "mmaction")
    (tmp_path / "walk").mkdir()
    (tmp_path / "walk" / "a.mp4").write_bytes(b"x")
    with pytest.raises(FormatError, match=r"train_list_videos\.txt:2: expected '<video path> <class index>'"):
        read_source(tmp_path, "mmaction")
    (tmp_path / "train_list_videos.txt").write_text("walk/a.mp4 7\n")
    with pytest.raises(FormatError, match=r"train_list_videos\.txt:1: class index 7 is not a line of"):
        read_source(tmp_path, "mmaction")


def test_not_utf8_and_unknown_files(tmp_path, capsys):
    latin = tmp_path / "events.tsv"
    latin.write_bytes(BORIS_HEADER.encode() + b"o\t\tcaf\xe9\tSTART\t0.5\ta.mp4\n")
    with pytest.raises(FormatError, match=r"events\.tsv:2: not UTF-8 text"):
        read_source(latin)
    odd = tmp_path / "notes.xyz"
    odd.write_text("hello")
    with pytest.raises(FormatError, match=r"notes\.xyz: unknown format '\.xyz'; choose one with --format"):
        read_source(odd)
    with pytest.raises(FormatError, match="no such file or folder"):
        read_source(tmp_path / "missing.eaf")
    with pytest.raises(FormatError, match="format 'ava' cannot be imported"):
        read_source(latin, "ava")
    project = tmp_path / "p.actdesk"
    assert main(["project", "new", str(project)]) == 0
    assert main(["import", str(project), str(odd)]) == 2
    assert "unknown format '.xyz'" in capsys.readouterr().err
