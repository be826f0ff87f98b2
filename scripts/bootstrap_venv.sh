#!/bin/sh
# Builds automod's virtualenv for Toolforge. Run it in a one-off job on the SAME image as the
# bot (the bastion's Python may differ): see README, "Deploy on Toolforge".
# EXTRAS=local adds what locally hosted language-agnostic models need (xgboost-cpu, mwxml).
set -eu
cd "$(dirname "$0")/.."
rm -rf pyvenv
python3 -m venv pyvenv
pyvenv/bin/pip install --quiet --upgrade pip
pyvenv/bin/pip install --quiet ".${EXTRAS:+[$EXTRAS]}"
pyvenv/bin/automod --version
