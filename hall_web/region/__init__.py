"""The deployment's root app, mounted at ``/`` beside the halls (``hall_web.deployment``):
the list of halls and, in blueprints added here, what spans halls."""
