"""The soak run (issue 7): the API under gunicorn, load, key rotation and IdP faults, with numbers.

``python -m soak`` (``make soak``) starts the mock IdP's live server in its own process and the
API under gunicorn (gthread workers) on 127.0.0.1, drives a bounded mixed load from client
processes while the scenario rotates the signing key, takes the JWKS down and makes it slow,
then prints a table and exits non-zero when anything unexpected happened, worker memory grew,
or the API fetched the JWKS more often than the README's "Signing keys" allows.
``soak.runner.run`` is the same run as a function (tests/soak). Kept import-free: client
processes import ``soak.load`` only.
"""
