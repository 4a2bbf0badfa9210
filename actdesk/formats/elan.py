"""``elan``: ELAN annotation documents (``.eaf``, EAF 3.0), one per video, one tier per track.

Each exported track becomes a time-aligned tier named after it, each segment
an annotation whose value is the label, from the time of its first frame to
the time of the frame after it (ELAN counts integer milliseconds). The
labels are also written as a controlled vocabulary, so ELAN offers them as
choices. The media descriptor points at the video (absolute URL and a path
relative to the export folder). EAF has no place for confidences.

Importing reads every time-aligned tier: a tier is a track (``human`` is the
human track). Annotations of symbolic (reference) tiers have no times of
their own and are skipped. The video is the media descriptor's file,
else the document's own name.
"""

from __future__ import annotations

import mimetypes
import os
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from actdesk.core.project import HUMAN_TRACK
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.formats.data import SECONDS, ExportSet, ExportVideo, Imported, Interval, checked_label
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder
from actdesk.formats.sources import XmlDocument

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
LINGUISTIC_TYPE = "action"
VOCABULARY = "actions"
LANGUAGE = "und"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def eaf_document(video: ExportVideo, data: ExportSet, folder: Path) -> ET.Element:
    """The ANNOTATION_DOCUMENT of one video, its tiers in the order of ``data.tracks``."""
    root = ET.Element("ANNOTATION_DOCUMENT", {
        "AUTHOR": "actdesk", "DATE": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "FORMAT": "3.0", "VERSION": "3.0", "xmlns:xsi": XSI, "xsi:noNamespaceSchemaLocation": SCHEMA})
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    media = {"MEDIA_URL": video.path.absolute().as_uri(),
             "MIME_TYPE": mimetypes.guess_type(video.name)[0] or "video/*"}
    try:
        relative = Path(os.path.relpath(video.path, folder)).as_posix()
        media["RELATIVE_MEDIA_URL"] = relative if relative.startswith("../") else f"./{relative}"
    except ValueError:  # another drive (Windows): no relative path exists
        pass
    ET.SubElement(header, "MEDIA_DESCRIPTOR", media)

    annotations = [(track, seg) for track in data.tracks for seg in video.segments(track)]
    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(len(annotations))
    # Two time slots per annotation (none shared, so moving one boundary in ELAN moves nothing else),
    # numbered in time order.
    boundaries = []
    for i, (_track, seg) in enumerate(annotations):
        start = _ms(video.time_of(seg.start_frame))
        boundaries += [(start, i, 0), (max(_ms(video.time_of(seg.end_frame)), start + 1), i, 1)]
    slot_ids: dict[tuple[int, int], str] = {}
    time_order = ET.SubElement(root, "TIME_ORDER")
    for n, (ms, i, side) in enumerate(sorted(boundaries), start=1):
        slot_ids[i, side] = f"ts{n}"
        ET.SubElement(time_order, "TIME_SLOT", {"TIME_SLOT_ID": f"ts{n}", "TIME_VALUE": str(ms)})

    for track in data.tracks:
        tier = ET.SubElement(root, "TIER", {"LINGUISTIC_TYPE_REF": LINGUISTIC_TYPE, "TIER_ID": track})
        for i, (owner, seg) in enumerate(annotations):
            if owner != track:
                continue
            wrapper = ET.SubElement(tier, "ANNOTATION")
            annotation = ET.SubElement(wrapper, "ALIGNABLE_ANNOTATION", {
                "ANNOTATION_ID": f"a{i + 1}", "TIME_SLOT_REF1": slot_ids[i, 0], "TIME_SLOT_REF2": slot_ids[i, 1]})
            ET.SubElement(annotation, "ANNOTATION_VALUE").text = seg.label

    ET.SubElement(root, "LINGUISTIC_TYPE", {
        "CONTROLLED_VOCABULARY_REF": VOCABULARY, "GRAPHIC_REFERENCES": "false",
        "LINGUISTIC_TYPE_ID": LINGUISTIC_TYPE, "TIME_ALIGNABLE": "true"})
    ET.SubElement(root, "LANGUAGE", {"LANG_DEF": "http://cdb.iso.org/lg/CDB-00130975-001", "LANG_ID": LANGUAGE,
                                     "LANG_LABEL": "undetermined (und)"})
    vocabulary = ET.SubElement(root, "CONTROLLED_VOCABULARY", {"CV_ID": VOCABULARY})
    ET.SubElement(vocabulary, "DESCRIPTION", {"LANG_REF": LANGUAGE}).text = "actdesk labels"
    for n, label in enumerate(data.labels, start=1):
        entry = ET.SubElement(vocabulary, "CV_ENTRY_ML", {"CVE_ID": f"cve{n}"})
        ET.SubElement(entry, "CVE_VALUE", {"LANG_REF": LANGUAGE}).text = label
    return root


class ElanFormat(Format):
    name = "elan"
    title = "ELAN annotation document"
    kind = "annotations"
    suffixes = (".eaf",)
    description = "one .eaf per video, a tier per track, time slots in milliseconds"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        data.ids_unique(self.name)
        for done, video in enumerate(data.videos):
            root = eaf_document(video, data, out.root)
            ET.indent(root)
            text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
            out.write_text(text, f"{video.video_id}.eaf")
            progress(done + 1, len(data.videos), video.name)

    def import_(self, path: Path) -> Imported:
        doc = XmlDocument(path)
        root = doc.root
        if root.tag != "ANNOTATION_DOCUMENT":
            raise doc.error(root, f"expected an ELAN document (<ANNOTATION_DOCUMENT>), found <{root.tag}>")
        header = root.find("HEADER")
        if header is not None and header.get("TIME_UNITS", "milliseconds") != "milliseconds":
            raise doc.error(header, f"TIME_UNITS {header.get('TIME_UNITS')!r} is not supported; expected milliseconds")
        video = _media_name(header) or path.stem
        slots: dict[str, int | None] = {}
        for slot in root.iter("TIME_SLOT"):
            value = slot.get("TIME_VALUE")
            try:
                slots[doc.attribute(slot, "TIME_SLOT_ID")] = None if value is None else int(value)
            except ValueError:
                raise doc.error(slot, f"TIME_VALUE must be whole milliseconds, got {value!r}") from None
        imported = Imported(self.name, path, labels=_vocabulary(doc))
        for tier in root.findall("TIER"):
            track = doc.attribute(tier, "TIER_ID").strip()
            for annotation in tier.iter("ALIGNABLE_ANNOTATION"):
                times = []
                for ref in ("TIME_SLOT_REF1", "TIME_SLOT_REF2"):
                    slot = doc.attribute(annotation, ref)
                    if slot not in slots:
                        raise doc.error(annotation, f"{ref} {slot!r} is not a TIME_SLOT of the document")
                    if slots[slot] is None:
                        raise doc.error(annotation, f"time slot {slot!r} has no TIME_VALUE (unaligned "
                                                    "annotations are not supported; align them in ELAN)")
                    times.append(slots[slot] / 1000)
                value = annotation.findtext("ANNOTATION_VALUE")
                label = checked_label(value or "", path, doc.line(annotation))
                if times[1] <= times[0]:
                    raise doc.error(annotation, f"annotation {label!r} ends ({times[1]:.3f} s) at or before its "
                                                f"start ({times[0]:.3f} s)")
                imported.intervals.append(Interval(
                    video, label, times[0], times[1], SECONDS, path, doc.line(annotation), track=track,
                    source="human" if track == HUMAN_TRACK else track))
                imported.add_label(label)
        return imported


def _media_name(header: ET.Element | None) -> str:
    """The file name of the document's first media descriptor ('' when it has none)."""
    if header is None:
        return ""
    for descriptor in header.findall("MEDIA_DESCRIPTOR"):
        for attribute in ("MEDIA_URL", "RELATIVE_MEDIA_URL"):
            url = descriptor.get(attribute, "")
            name = PurePosixPath(unquote(urlparse(url).path).replace("\\", "/")).name if url else ""
            if name:
                return name
    return ""


def _vocabulary(doc: XmlDocument) -> list[str]:
    """The controlled vocabularies' values (EAF 2.8+ ``CVE_VALUE``, older ``CV_ENTRY``), as labels."""
    labels: list[str] = []
    for vocabulary in doc.root.findall("CONTROLLED_VOCABULARY"):
        for entry in [*vocabulary.iter("CVE_VALUE"), *vocabulary.iter("CV_ENTRY")]:
            label = checked_label(entry.text or "", doc.path, doc.line(entry))
            if label not in labels:
                labels.append(label)
    return labels
