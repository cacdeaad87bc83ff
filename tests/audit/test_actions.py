"""The registry of audit actions: every action recorded is registered, with its outcome and label,
and no action name is put together from parts."""

import ast
from pathlib import Path

import pytest
from django.db import transaction

from orgconnectors.audit.actions import (
    ACTIONS,
    AuditAction,
    AuditOutcome,
    UnregisteredAuditAction,
    _registry,
    audit_action_label,
)
from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor

ROOT = Path(__file__).resolve().parents[2]
RECORDING_CODE = ("orgconnectors", "bench")
ALL_CODE = (*RECORDING_CODE, "tests")


def test_recording_an_unregistered_action_is_refused_and_writes_nothing(org):
    with pytest.raises(UnregisteredAuditAction, match="'connector.renamed' is not a registered"):
        with transaction.atomic():
            audit_record(
                organization=org,
                actor=Actor.system("tests"),
                action="connector.renamed",
                target=org,
            )

    assert not AuditEvent.objects.exists()


def test_the_outcome_is_the_one_registered_with_the_action(org):
    with transaction.atomic():
        refused = audit_record(
            organization=org,
            actor=Actor.system("tests"),
            action="oauth.step_up_refused",
            target=org,
        )

    assert refused.outcome == AuditOutcome.REFUSED


def test_each_action_keeps_the_outcome_its_name_gave_it_before_the_registry():
    # Events written before the registry took their outcome from the name's ending; the same
    # action must go on being recorded with the same outcome.
    def by_name(name: str) -> str:
        if name.endswith("_failed"):
            return AuditOutcome.FAILURE
        if name.endswith(("_refused", "_denied")):
            return AuditOutcome.REFUSED
        return AuditOutcome.SUCCESS

    assert {name: a.outcome for name, a in ACTIONS.items()} == {
        name: by_name(name) for name in ACTIONS
    }


def test_each_action_has_a_label_and_a_name_the_trail_can_store():
    limit = AuditEvent._meta.get_field("action").max_length
    for name, action in ACTIONS.items():
        assert action.name == name
        assert action.label and action.label[0].isupper() and action.label != name
        assert len(name) <= limit and name.count(".") == 1 and name == name.lower()


def test_an_action_stored_before_it_was_registered_reads_as_its_name():
    assert audit_action_label("connector.updated") == "Connector edited"
    assert audit_action_label("retired.action") == "retired.action"


def test_an_action_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        _registry(AuditAction("a.done", "Done"), AuditAction("a.done", "Done again"))


# What the code records, read from its source.


def _modules(*folders: str):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _module_values(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound once at the module's top level, with the expression bound to them."""
    return {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }


def _parameters(tree: ast.Module) -> dict[ast.AST, set[str]]:
    """For each node inside a function, the names of that function's parameters."""
    inside: dict[ast.AST, set[str]] = {}
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = function.args
            names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
            for node in ast.walk(function):
                inside.setdefault(node, set()).update(names)
    return inside


def _called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ast.unparse(call.func)


def _action_arguments(tree: ast.Module):
    """(call, expression) for each `action=` given to a call, except argparse's own."""
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and _called(call) != "add_argument":
            for keyword in call.keywords:
                if keyword.arg == "action":
                    yield call, keyword.value


def _recording_calls(tree: ast.Module, parameters: dict[ast.AST, set[str]]):
    """(call, expression) for each action given to audit_record, or to a helper of the module
    that hands its own `action` parameter on to audit_record."""
    helpers = {
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for call, value in _action_arguments(function)
        if _called(call) == "audit_record"
        and isinstance(value, ast.Name)
        and value.id in parameters.get(call, set())
    }
    for call, value in _action_arguments(tree):
        if _called(call) in ("audit_record", *helpers):
            yield call, value


def _names(value: ast.expr, module: dict[str, ast.expr], parameters: set[str]):
    """The action names an `action=` expression can be, or the reason it cannot be told."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        yield value.value
    elif isinstance(value, ast.IfExp):
        yield from _names(value.body, module, parameters)
        yield from _names(value.orelse, module, parameters)
    elif isinstance(value, ast.Name) and value.id in parameters:
        return  # passed through a helper: its callers' `action=` are checked instead
    elif isinstance(value, ast.Name) and value.id in module:
        yield from _names(module[value.id], module, parameters)
    elif isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
        table = module.get(value.value.id)
        if isinstance(table, ast.Dict):
            for entry in table.values:
                yield from _names(entry, module, parameters)
        else:
            yield ValueError(f"a lookup in {value.value.id}, which is not a dict of names")
    else:
        yield ValueError(f"built by `{ast.unparse(value)}`")


def _recorded_actions(*folders: str):
    """(where, name or ValueError) for every action name the code gives as `action=`."""
    for path, tree in _modules(*folders):
        module, parameters = _module_values(tree), _parameters(tree)
        for call, value in _recording_calls(tree, parameters):
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            for name in _names(value, module, parameters.get(call, set())):
                yield where, name


def _put_together(value: ast.expr) -> bool:
    if isinstance(value, ast.IfExp):
        return _put_together(value.body) or _put_together(value.orelse)
    return isinstance(value, ast.JoinedStr | ast.BinOp) or (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("format", "join")
    )


def _built(tree: ast.Module):
    """`action=` values put together from parts: f-strings, +, %, .format(), .join()."""
    for call, value in _action_arguments(tree):
        if _put_together(value):
            yield call.lineno, ast.unparse(value)


def test_every_action_the_code_records_is_registered():
    found = list(_recorded_actions(*RECORDING_CODE))
    unknown = [f"{where}: {name}" for where, name in found if name not in ACTIONS]

    assert not unknown, "record only actions registered in orgconnectors/audit/actions.py"
    # The walk does find the code's actions: through helpers, conditions and the export's
    # lookup by source.
    names = {name for _, name in found}
    assert {
        "connector.registered",
        "connector.health_changed",
        "oauth.client_issuer_pinned",
        "oauth.revoke_failed",
        "oauth.step_up_refused",
        "usage.exported",
    } <= names


def test_no_action_name_is_put_together_from_parts():
    built = [
        f"{path.relative_to(ROOT)}:{line}: {code}"
        for path, tree in _modules(*ALL_CODE)
        for line, code in _built(tree)
    ]

    assert not built, "give actions by their registered names, e.g. a dict from a status"


def test_the_walk_catches_an_action_built_with_an_f_string():
    source = (
        'EXPORTED = {"audit": "audit.exported"}\n'
        "def export(source):\n"
        '    audit_record(action=f"{source}.exported")\n'
        "    audit_record(action=EXPORTED[source])\n"
        '    audit_record(action="usage." + "exported")\n'
    )
    tree = ast.parse(source)
    module, parameters = _module_values(tree), _parameters(tree)

    assert [line for line, _ in _built(tree)] == [3, 5]
    names = [
        name
        for call, value in _recording_calls(tree, parameters)
        for name in _names(value, module, parameters.get(call, set()))
    ]
    assert [n for n in names if isinstance(n, str)] == ["audit.exported"]
    assert len([n for n in names if isinstance(n, ValueError)]) == 2
