"""Upgrade and uninstall checks of bin/test, on the database the tests ran in.

After the tests, the module and its bridges (``oe.MODULES``) are upgraded
(``-u``) and then the module is uninstalled (the bridges go with it) in that
same database (the module installed with its demo data and whatever the tests
committed). Both must log no ERROR, and the uninstall must leave no
``sale.flow.*`` model, no ``sale_flow_*`` table and no ``flow_`` column behind.
"""

import _deadline as deadline
import _odoo_env as oe

# each step takes well under a minute here; past this it is stuck
STEP_TIMEOUT = 180

UNINSTALL_SCRIPT = """
module = env["ir.module.module"].search([("name", "=", "{module}")])
module.button_immediate_uninstall()
env.cr.commit()
print("uninstall: module state", module.read(["state"])[0]["state"])
bridges = env["ir.module.module"].search([("name", "in", {bridges!r})])
print("uninstall: bridge states", bridges.mapped("state"))
"""

LEFTOVERS_SQL = """
SELECT 'model ' || model FROM ir_model WHERE model LIKE 'sale.flow.%'
UNION ALL
SELECT 'table ' || table_name FROM information_schema.tables
 WHERE table_schema = 'public' AND table_name LIKE 'sale\\_flow\\_%'
UNION ALL
SELECT 'column ' || table_name || '.' || column_name
  FROM information_schema.columns
 WHERE table_schema = 'public' AND column_name LIKE 'flow\\_%'
"""


def _error_lines(output):
    return [
        line
        for line in output.splitlines()
        if " ERROR " in line or " CRITICAL " in line or "Traceback" in line
    ]


def leftovers(db):
    """What the module left in ``db``: a list of 'model x' / 'table x' / 'column x'."""
    out = oe.psql(db, LEFTOVERS_SQL)
    return [line for line in out.stdout.splitlines() if line.strip()]


def check_upgrade_and_uninstall(odoo_cmd, addons, db, log_path):
    """Upgrade then uninstall the module in ``db``; return a list of problems."""
    options = [
        "--db_host=",
        f"--addons-path={oe.addons_path(addons)}",
        "-d",
        db,
        "--max-cron-threads=0",
        "--no-http",
        "--log-level=warn",
    ]
    steps = (
        (
            "upgrade",
            [*odoo_cmd, *options, "-u", ",".join(oe.MODULES), "--stop-after-init"],
            None,
        ),
        # the subcommand follows the program (odoo-bin or "python -c ...")
        ("uninstall", [*odoo_cmd, "shell", *options], UNINSTALL_SCRIPT),
    )
    problems = []
    with open(log_path, "a", encoding="utf-8") as log:
        for name, cmd, script in steps:
            lines = []
            returncode, timed_out = deadline.run(
                cmd,
                STEP_TIMEOUT,
                lines.append,
                stdin_text=script.format(module=oe.MODULE, bridges=list(oe.MODULES[1:]))
                if script
                else None,
                cwd=oe.REPO,
                on_timeout=lambda: oe.print_db_sessions(db),
            )
            output = "".join(lines)
            log.write(f"\n===== {name} =====\n{output}")
            errors = _error_lines(output)
            if timed_out:
                problems.append(
                    f"{name}: ran over {STEP_TIMEOUT} s; its last lines:\n"
                    + "".join(lines[-60:])
                )
            elif returncode or errors:
                problems.append(
                    f"{name}: exit code {returncode}, "
                    f"{len(errors)} ERROR line(s) {(errors or [''])[0][:300]}"
                )
            if problems:
                print(f"lifecycle: {name}: FAILED: {problems[-1]}")
                return problems
            print(f"lifecycle: {name}: ok")
    left = leftovers(db)
    if left:
        problems.append(f"uninstall left {len(left)} thing(s): {', '.join(left[:5])}")
    print(f"lifecycle: left behind by the uninstall: {', '.join(left) or 'nothing'}")
    return problems
