"""jaxnets: deep networks from the perceptron to segmentation nets, in JAX/Flax Linen."""

from jaxnets.errors import JaxnetsError

__all__ = ["JaxnetsError"]
