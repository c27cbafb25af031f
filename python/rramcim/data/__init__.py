"""Event data of the PRIME workload: event arrays and frames, N-MNIST and AEDAT files, and the
N-Digits stand-in dataset.

* :mod:`rramcim.data.events`: :data:`EVENT_DTYPE`, :func:`events_to_frames`,
  :func:`frames_to_spikes` and helpers.
* :mod:`rramcim.data.nmnist`: N-MNIST ``.bin`` reader/writer and dataset folders.
* :mod:`rramcim.data.aedat`: AEDAT 1.0/2.0 (DVS128) and 3.1 (polarity) files.
* :mod:`rramcim.data.ndigits`: N-Digits, sklearn digits through a simulated DVS (a stand-in,
  not N-MNIST); imports scikit-learn only when images are needed.

CT phantoms of the neural-field workload (2-D modified Shepp-Logan, its perturbed prior, the
3-D ellipsoid phantom) live in :mod:`rramcim.data.phantom`.
"""

from __future__ import annotations

from rramcim.data.aedat import AedatFormatError, load_aedat, read_aedat, write_aedat
from rramcim.data.events import (
    EVENT_DTYPE,
    OFF,
    ON,
    check_events,
    crop_time,
    events_to_frames,
    frames_to_spikes,
    make_events,
    sort_events,
)
from rramcim.data.ndigits import DvsConfig, make_ndigits, ndigits_events
from rramcim.data.nmnist import (
    NmnistFormatError,
    list_dataset,
    load_frames,
    read_nmnist,
    write_nmnist,
)

__all__ = [
    "EVENT_DTYPE",
    "OFF",
    "ON",
    "AedatFormatError",
    "DvsConfig",
    "NmnistFormatError",
    "check_events",
    "crop_time",
    "events_to_frames",
    "frames_to_spikes",
    "list_dataset",
    "load_aedat",
    "load_frames",
    "make_events",
    "make_ndigits",
    "ndigits_events",
    "read_aedat",
    "read_nmnist",
    "sort_events",
    "write_aedat",
    "write_nmnist",
]
