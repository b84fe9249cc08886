"""landscape: filter-normalised loss surfaces (Li et al. 2018) around any Equinox model and
any user loss (paper appendices C.5 and C.8), with Hessian curvature (top eigenvalues,
trace, spectral density) and low-loss curves between two models. ``import landscape`` does not import eqgat:
the eqgat workflows sit on top (``eqgat.workflows.landscapes``, run by ``python -m landscape``)."""

from ._api import random_directions as random_directions
from ._api import surface as surface
from ._directions import along as along
from ._directions import filter_normalize as filter_normalize
from ._directions import orthogonalize as orthogonalize
from ._directions import pca_directions as pca_directions
from ._directions import plane as plane
from ._directions import random_direction as random_direction
from ._surface import SPANS as SPANS
from ._surface import evaluate_surface as evaluate_surface
from ._surface import grid_axes as grid_axes
from ._surface import interpolate as interpolate
from ._surface import parse_span as parse_span
from ._format import Surface as Surface
from ._format import load as load
from ._format import load_surface as load_surface
from ._connect import Curve as Curve
from ._connect import along_curve as along_curve
from ._connect import barrier as barrier
from ._connect import connect as connect
from ._connect import line as line
from ._curvature import RoundingWarning as RoundingWarning
from ._curvature import hessian_trace as hessian_trace
from ._curvature import hvp_rounding as hvp_rounding
from ._curvature import resolved as resolved
from ._curvature import spectral_density as spectral_density
from ._curvature import top_eigenvalues as top_eigenvalues
from ._curvature import x64_available as x64_available
