"""``recordings-kms upgrade-check``: which stateful resources would a new template delete or replace?

``command`` compares the two templates; ``replacement_table`` is generated from cfn-lint's schemas
(``scripts/replacement_table.py``), so that the command needs no development package.
"""
