"""Developer tooling: the ``make run`` stack (mock IdP + API). Never imported by ``apiexample``."""
