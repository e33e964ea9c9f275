"""Developer tooling: the ``make run`` stack (mock IdP + API), and the process helpers the
bench, the soak run and the live tests share. Never imported by ``apiexample``."""
