"""A minimal Django project around django-helpdesk, the intake benchmark's comparison.

It runs only under the benchmark's own virtualenv (var/bench/helpdesk-venv, made by
bench.helpdesk): django-helpdesk is never installed in the product's environment, and nothing
of the product imports this package (tests/test_bench_isolation.py).
"""
