"""SynthFACS: a procedural face renderer with exact FACS ground truth (see docs/synthfacs.md).

from lsgan.data.synthfacs import sample_identity, render, Pose, Light
face = render(sample_identity(3, seed=0), aus, size=128, pose=Pose(yaw=5), light=Light(azimuth=30))
face.image  # uint8 [128, 128, 3];  face.labels  # uint8 [128, 128], lsgan.parsing classes
"""

from lsgan.data.synthfacs.expressions import (
    Expression,
    sample_expression,
    sample_pose_light,
)
from lsgan.data.synthfacs.frame import Pose
from lsgan.data.synthfacs.identity import Identity, sample_identity
from lsgan.data.synthfacs.renderer import Render, RenderError, render
from lsgan.data.synthfacs.shading import Light
from lsgan.data.synthfacs.writer import (
    SynthConfig,
    SynthSettings,
    read_meta,
    render_row,
    write_dataset,
)

__all__ = [
    "Expression",
    "Identity",
    "Light",
    "Pose",
    "Render",
    "RenderError",
    "SynthConfig",
    "SynthSettings",
    "read_meta",
    "render",
    "render_row",
    "sample_expression",
    "sample_identity",
    "sample_pose_light",
    "write_dataset",
]
