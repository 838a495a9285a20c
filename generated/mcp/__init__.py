# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.
