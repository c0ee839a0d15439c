"""The numerics: special functions, quadrature, code generation, fixed point, Newton, continuation (no physics)."""
