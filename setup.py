"""Build stub: ships the top-level `templates/` inside the package and compiles the message catalogs.

The rest of the metadata is in setup.cfg. Templates stay at the top of the repository (the layout
is fixed) and become the package `kb.templates` in a wheel; the `.mo` catalogs are not committed,
so every build (a wheel, or an editable install) compiles them from the `.po` files.
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent


class BuildWithCatalogs(build_py):
    """build_py that also compiles kb/translations/*/LC_MESSAGES/*.po into .mo files."""

    def run(self):
        super().run()
        # an editable install imports the source tree, so its catalogs are compiled in place
        target = HERE if getattr(self, "editable_mode", False) else Path(self.build_lib)
        compile_catalogs(HERE / "kb" / "translations", target / "kb" / "translations")


def compile_catalogs(source: Path, target: Path) -> None:
    """Compile every messages.po under `source` into the same place under `target`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f)
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=True)


setup(
    packages=find_packages(include=["kb", "kb.*"]) + ["kb.templates", "kb.templates.static", "kb.templates.charts"],
    package_dir={"kb.templates": "templates"},
    package_data={"kb": ["data/*.json", "translations/*/LC_MESSAGES/*"],
                  "kb.templates": ["*.html"], "kb.templates.static": ["*"],
                  "kb.templates.charts": ["*.svg"]},
    cmdclass={"build_py": BuildWithCatalogs},
)
