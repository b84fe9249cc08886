"""landscape: filter-normalised loss surfaces (Li et al. 2018) around any Equinox model,
with eqgat models supported out of the box (paper appendices C.5 and C.8)."""

from ._directions import along as along
from ._directions import filter_normalize as filter_normalize
from ._directions import orthogonalize as orthogonalize
from ._directions import pca_directions as pca_directions
from ._directions import plane as plane
from ._directions import random_direction as random_direction
from ._surface import SPANS as SPANS
from ._surface import evaluate_surface as evaluate_surface
from ._surface import interpolate as interpolate
from ._surface import load_surface as load_surface
from ._surface import parse_span as parse_span
