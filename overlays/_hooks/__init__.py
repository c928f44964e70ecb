"""Per-provider hooks: hand-written code for what a declaration cannot say, one
optional module per provider, named by its declaration's ``hook:`` key. A hook may
define ``inspect(data)`` (sees every decoded success body) and public names in
``__all__``, which ``creditwatch.<provider>`` re-exports."""
