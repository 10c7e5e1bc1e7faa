"""Models from other frameworks into plan files (`cnnplan import`): one subpackage per source
(torch/), and plan.py, the plan file every importer writes and checks."""
