"""Dagster definitions of Vigil's batch side; the logic lives in plain functions in vigil/."""

import warnings

import dagster as dg

# backfill_policy is beta in Dagster 1.13; it is what turns a day's backfill into one run.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
