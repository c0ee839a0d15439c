"""Figure recipes: each is a small function that runs the sweeps a figure needs and draws it.

``replica figure list`` lists them; ``replica figure NAME --out DIR`` writes ``DIR/NAME.png`` and the data behind it
as ``DIR/NAME.csv``. Each recipe says which figure it reconstructs and what it could not pin down.
"""
from . import committee, diagrams, experiment, gaussian_mixture, local_entropy, storage, width

RECIPES = {recipe.NAME: recipe for recipe in (storage.ENTROPY, diagrams.SPHERICAL, diagrams.BINARY,
                                              diagrams.FRANZ_PARISI, local_entropy.FP_CURVES,
                                              local_entropy.NESTED_MARGINS, local_entropy.LD_CURVES,
                                              local_entropy.CE_CURVES, local_entropy.ONSETS,
                                              gaussian_mixture.ERRORS, gaussian_mixture.ERROR_VS_LAMBDA,
                                              gaussian_mixture.BO_LOCAL_ENTROPY, gaussian_mixture.ERM_LOCAL_ENTROPY,
                                              gaussian_mixture.FLAT_HINGE,
                                              committee.TREE_WFM, committee.TREE_STABILITY,
                                              committee.TREE_STORAGE, width.COORD_CHECK,
                                              width.MAX_LEARNING_RATE, width.NTK_CONVERGENCE, width.LANDSCAPE,
                                              experiment.ENUMERATION, experiment.FP_EXPERIMENT,
                                              experiment.COMMITTEE_EXPERIMENT, experiment.FLATNESS_GENERALIZATION,
                                              experiment.FLATNESS_DIGITS,
                                              experiment.FP_BP)}

__all__ = ["RECIPES"]
