"""Training: state, losses, metrics, optimisers, jitted data-parallel steps, checkpoints, loop."""

from jaxnets.train.loop import TrainingDiverged, create_train_state, evaluate, train_and_evaluate
from jaxnets.train.state import TrainState

__all__ = ["TrainState", "TrainingDiverged", "create_train_state", "evaluate",
           "train_and_evaluate"]
